/** `badgateway serve --h2-port`: the h2c listener from the command line, and its flags' errors. */
import { expect, test } from 'vitest';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';
import { h2Request } from '../helpers/h2-client.js';

test('serve --h2-port lists the h2 listener and serves the HTTP/2 faults there; --h2-fault sets its default', { timeout: 40_000 }, async () => {
  const cli = startCli(['serve', '--json', '--h2-port', '0', '--h2-fault', 'grpc-unavailable', '--no-dns', '--no-control', '--listener-faults', 'none']);
  try {
    await waitForOutput(cli.output, /\}\n/);
    const info = JSON.parse(cli.output().split('\n')[0]!);
    const h2 = info.upstream.find((l: { name: string }) => l.name === 'h2');
    expect(h2).toMatchObject({ protocol: 'h2', kind: 'tcp' });
    expect(h2.url).toMatch(/^h2c:\/\/127\.0\.0\.1:\d+$/);
    expect(info.routing.h2DefaultFault).toBe('grpc-unavailable');
    const base = `http://127.0.0.1:${h2.port}`;
    expect((await h2Request(base, '/h2-rst-mid-data')).rstCode).toBe(2);
    expect((await h2Request(base, '/anything')).trailers?.['grpc-status']).toBe('14');
  } finally {
    cli.child.kill('SIGTERM');
  }
  expect((await cli.done).code).toBe(0);
});

test('--h2-fault without --h2-port, and a non-h2 default on the h2 listener, are exit 2 with what to do', async () => {
  const a = await runCli(['serve', '--h2-fault', 'h2-healthy', '--no-dns', '--no-control', '--listener-faults', 'none']);
  expect(a.code).toBe(2);
  expect(a.stderr).toMatch(/--h2-fault h2-healthy needs an HTTP\/2 listener.*add --h2-port/);
  const b = await runCli(['serve', '--h2-port', '0', '--h2-fault', 'empty-reply', '--no-dns', '--no-control', '--listener-faults', 'none']);
  expect(b.code).toBe(2);
  expect(b.stderr).toMatch(/HTTP\/2 default fault empty-reply does not speak HTTP\/2/);
  expect(b.stderr).not.toMatch(/\n\s+at /);
});
