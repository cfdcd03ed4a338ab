import { expect, test } from 'vitest';
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
