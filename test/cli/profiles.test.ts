/** The alb and cloudflare profiles from the command line: refused without the external runtime, read by explain. */
import { expect, test } from 'vitest';
import { albExampleLine } from '../../src/gateways/alb.js';
import { logpushExampleLine } from '../../src/gateways/cloudflare.js';
import { runCli } from '../helpers/cli.js';

test.each(['process', 'container', 'auto'])('run --gateway alb --runtime %s is refused before anything starts: exit 2, one paragraph naming --runtime external', async (runtime) => {
  const r = await runCli(['run', '--gateway', 'alb', '--runtime', runtime, '--only', 'healthy']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/alb runs only with --runtime external/);
  expect(r.stderr).toContain('deploy/alb/README.md');
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test('run --gateway nginx,cloudflare is refused for cloudflare, naming a proxied hostname or a tunnel', async () => {
  const r = await runCli(['run', '--gateway', 'nginx,cloudflare', '--runtime', 'process', '--only', 'healthy']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/cloudflare runs only with --runtime external, and --runtime process was given\..*proxied hostname or behind a Cloudflare Tunnel/);
});

test('explain reads an ALB access-log entry: the reason, and how to reproduce it through your ALB', async () => {
  const r = await runCli(['explain', albExampleLine('-1 -1 -1', '502 -', '/s/empty-reply/?bgp=2')]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^upstream-failed-before-response {2}\(alb\)/);
  expect(r.stdout).toContain('badgateway run --gateway alb --runtime external --url <its URL>');
  expect(r.stdout).toContain('idle_timeout.timeout_seconds');
});

test('explain --file groups ALB entries and Logpush records by reason', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/bg-profiles-`);
  try {
    const lines = [albExampleLine('-1 -1 -1', '502 -'), albExampleLine('-1 -1 -1', '502 -'), albExampleLine('0.001 -1 -1', '504 -'), logpushExampleLine(521, 0), logpushExampleLine(200, 200)];
    await writeFile(`${dir}/mixed.log`, lines.join('\n') + '\n');
    const r = await runCli(['explain', '--file', `${dir}/mixed.log`, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ lines: 5, recognised: 4, unrecognised: 1 });
    expect(j.reasons.map((x: { gateway: string; reason: string; count: number }) => `${x.count} ${x.gateway} ${x.reason}`)).toEqual(['2 alb upstream-failed-before-response', '1 cloudflare connect-refused', '1 alb read-timeout']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
