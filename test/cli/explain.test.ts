import { expect, test } from 'vitest';
import { gatewayById } from '../../src/gateways/index.js';
import { runCli } from '../helpers/cli.js';

test('explain names the reason, causes, the scenario and the directives', async () => {
  const line =
    '2026/11/24 10:00:00 [error] 7#7: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://10.0.0.2:8080/", host: "x"';
  const r = await runCli(['explain', line]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^read-timeout {2}\(nginx\)/);
  expect(r.stdout).toContain('badgateway run --gateway nginx --only never-respond');
  expect(r.stdout).toContain('proxy_read_timeout');
});

test('explain takes the message alone, without the log prefix', async () => {
  const r = await runCli(['explain', 'upstream sent too big header while reading response header from upstream', '--json']);
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j).toMatchObject({ gateway: 'nginx', reason: 'header-too-big' });
  expect(j.directives).toContain('proxy_buffer_size');
});

test('an unknown line is a clear error, exit 2', async () => {
  const r = await runCli(['explain', 'all is well']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no gateway adapter recognises this line/);
});

test('an unknown line lists each known reason once, and names --gateway', async () => {
  const r = await runCli(['explain', 'all is well']);
  expect(r.code).toBe(2);
  const reasons = /known reasons: (.*)\.\s*$/.exec(r.stderr)![1]!.split(', ');
  expect(reasons).toContain('read-timeout');
  expect(reasons).toContain('invalid-upgrade');
  expect(new Set(reasons).size).toBe(reasons.length);
  expect(r.stderr).toContain('--gateway <nginx|haproxy|caddy|apache|envoy|traefik|http-proxy-middleware|fastify-http-proxy>');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});

test('an unknown line with --gateway lists only that gateway\'s reasons and gives that gateway\'s example', async () => {
  const apache = gatewayById('apache');
  const example = apache.reasons.find((i) => i.reason === 'read-timeout')!.example!;
  const r = await runCli(['explain', '--gateway', 'apache', 'all is well']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/the apache adapter does not recognise this line/);
  expect(r.stderr).toContain(`"${example}"`);
  expect(r.stderr).not.toContain('while reading response header from upstream');
  const reasons = /apache's reasons: (.*)\.\s*$/.exec(r.stderr)![1]!.split(', ');
  expect(reasons).toEqual(apache.reasons.map((i) => i.reason));
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  // The example it gives is one the command itself explains.
  const ok = await runCli(['explain', '--gateway', 'apache', example]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/^read-timeout {2}\(apache\)/);
  // Caddy logs JSON: its examples are the message part, and the message says so.
  const c = await runCli(['explain', '--gateway', 'caddy', 'all is well']);
  expect(c.code).toBe(2);
  expect(c.stderr).toContain('its message reads like "net/http: timeout awaiting response headers"');
  expect(c.stderr).toMatch(/caddy's reasons: .*no-live-upstreams/);
  expect(c.stderr).not.toMatch(/invalid-upgrade|send-timeout/);
});
