import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { rawRequest, GET } from '../helpers/raw-client.js';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';
import { defaultParams, fcgiRequest, responseOf } from '../helpers/fcgi-client.js';

test('serve prints every listener as JSON, serves faults, and stops cleanly on SIGTERM', { timeout: 30_000 }, async () => {
  const cli = startCli(['serve', '--json']);
  await waitForOutput(cli.output, /\}\n/);
  const info = JSON.parse(cli.output().split('\n')[0]!);
  const http = info.upstream.find((l: { name: string }) => l.name === 'http');
  expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const names: string[] = info.listenerFaults.map((l: { name: string }) => l.name);
  expect(names.filter((n) => !n.startsWith('tls-')).sort()).toEqual(['accept-queue-full', 'close-on-accept', 'connect-refused', 'reset-on-accept']);
  expect(names.filter((n) => n.startsWith('tls-'))).toHaveLength(16); // test/tls/serve-tls.test.ts checks them
  expect(info.dns).toMatchObject({ host: '127.0.0.1', zone: 'badgateway.test' });
  expect(info.dns.names['dns-nxdomain']).toBe('nxdomain.badgateway.test');
  expect(info.control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  const ok = await rawRequest(GET('/healthy', 'Connection: close\r\n'), { port: http.port });
  expect(ok.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  const empty = await rawRequest(GET('/empty-reply'), { port: http.port });
  expect(empty).toMatchObject({ end: 'fin' });
  expect(empty.bytes.length).toBe(0);
  const faults = (await fetch(`${info.control.url}/api/faults`).then((r) => r.json())) as unknown[];
  expect(faults.length).toBeGreaterThan(40);

  cli.child.kill('SIGTERM');
  const r = await cli.done;
  expect(r.code).toBe(0);
  // Everything it listened on is free again.
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(http.port, '127.0.0.1', () => s.close(() => resolve()));
  });
});

test('serve on a port in use says which port and what to do, exit 2, no stack', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runCli(['serve', '--port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} for the chaos upstream: the port is already in use.*pick another port`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  } finally {
    blocker.close();
  }
});

test('serve with an unknown default fault lists the closest ids', async () => {
  const r = await runCli(['serve', '--fault', 'empty-replay', '--no-dns', '--no-control', '--listener-faults', 'none']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown fault "empty-replay". Closest: empty-reply/);
});

test('faults lists the catalogue and shows one fault in plain words', async () => {
  const all = await runCli(['faults']);
  expect(all.code).toBe(0);
  expect(all.stdout).toMatch(/^listener \(21\)/m); // 5, and the 16 TLS listener faults
  expect(all.stdout).toMatch(/accept-queue-full\s+A listener whose accept queue is full/);
  const one = await runCli(['faults', 'body-cut-reset-length']);
  expect(one.code).toBe(0);
  expect(one.stdout).toContain('Steps (YAML, the same language as custom faults)');
  expect(one.stdout).toMatch(/- reset/);
  expect(one.stdout).toMatch(/\d\. reset the connection \(RST\)/);
  const bad = await runCli(['faults', 'body-cut']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/unknown fault "body-cut". Closest: body-cut-/);
});

test('serve --listener-fault-path starts fcgi-pool-full on a unix socket; a port for it, or a path for a TCP fault, is exit 2', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-serve-full-'));
  const path = join(dir, 'full.sock');
  try {
    const cli = startCli(['serve', '--json', '--no-dns', '--no-control', '--listener-faults', 'fcgi-pool-full', '--listener-fault-path', `fcgi-pool-full=${path}`]);
    try {
      await waitForOutput(cli.output, /\}\n/);
      const info = JSON.parse(cli.output().split('\n')[0]!);
      expect(info.listenerFaults).toEqual([{ name: 'fcgi-pool-full', kind: 'unix', path, fault: 'fcgi-pool-full', protocol: 'fastcgi' }]);
      const code = await new Promise<string>((resolve) => {
        const s = connect({ path });
        s.once('connect', () => (s.destroy(), resolve('connect')));
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? ''));
      });
      expect(code).toBe('EAGAIN');
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect((await cli.done).code).toBe(0);
    expect(existsSync(path)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const port = await runCli(['serve', '--no-dns', '--no-control', '--listener-fault-port', 'fcgi-pool-full=9001']);
  expect([port.code, port.stderr]).toEqual([2, expect.stringMatching(/listens on a unix socket, not a port; give it a path with --listener-fault-path fcgi-pool-full=PATH/)]);
  const tcp = await runCli(['serve', '--no-dns', '--no-control', '--listener-fault-path', 'connect-refused=/tmp/x.sock']);
  expect([tcp.code, tcp.stderr]).toEqual([2, expect.stringMatching(/"connect-refused" is not a unix-socket listener fault; they are: fcgi-pool-full/)]);
});

test('an unknown command or flag is a usage error, exit 2', async () => {
  const r = await runCli(['serv']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/Did you mean serve|Unknown argument/);
  const f = await runCli(['serve', '--prot', '1']);
  expect(f.code).toBe(2);
  expect(f.stderr).toMatch(/Unknown argument/);
});

test('serve --fastcgi-fault: the FastCGI listeners default to it; an HTTP fault there is refused with exit 2', { timeout: 30_000 }, async () => {
  const cli = startCli(['serve', '--json', '--no-dns', '--no-control', '--listener-faults', 'none', '--fastcgi-port', '0', '--fastcgi-fault', 'fcgi-primary-script-unknown']);
  try {
    await waitForOutput(cli.output, /\}\n/);
    const info = JSON.parse(cli.output().split('\n')[0]!);
    expect(info.routing.fastcgiDefaultFault).toBe('fcgi-primary-script-unknown');
    const port = info.upstream.find((l: { name: string }) => l.name === 'fastcgi').port;
    const r = responseOf((await rawRequest(fcgiRequest({ params: defaultParams('/index.php') }), { port, timeoutMs: 3000 })).bytes);
    expect(r.stderr).toBe('Primary script unknown');
  } finally {
    cli.child.kill('SIGTERM');
    await cli.done;
  }
  const wrong = await runCli(['serve', '--no-dns', '--no-control', '--listener-faults', 'none', '--fastcgi-port', '0', '--fastcgi-fault', 'empty-reply']);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/^badgateway: .*the FastCGI default fault empty-reply speaks HTTP; give a fault with protocol: fastcgi/);
  expect(wrong.stderr).not.toMatch(/\n\s+at /);
});
