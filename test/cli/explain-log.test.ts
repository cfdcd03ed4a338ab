/**
 * `explain -` (each line on stdin) and `explain --file LOG` (a whole log grouped by reason),
 * through the built CLI, with lines as nginx, HAProxy and Caddy write them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';

/** The CLI with `input` on its stdin. */
function withStdin(args: readonly string[], input: string): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const NGINX_TIMEOUT = '2026/11/24 10:00:00 [error] 7#7: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.1, server: _, request: "GET /a HTTP/1.1", upstream: "http://10.0.0.2:8080/a", host: "x"';
const NGINX_CLOSED = (n: number) =>
  `2026/11/24 10:00:0${n} [error] 7#7: *${n} upstream prematurely closed connection while reading response header from upstream, client: 10.0.0.1, server: _, request: "GET /b HTTP/1.1", upstream: "http://10.0.0.2:8080/b", host: "x"`;
const NGINX_NOTICE = '2026/11/24 09:59:59 [notice] 1#1: start worker processes';
const HAPROXY_REFUSED = 'badgateway 127.0.0.1:5 [24/Nov/2026:10:00:00.000] badgateway be_x/s 0/0/-1/-1/3003 503 217 SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-explain-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('explain - explains every line on stdin, in order, and says which it does not know', async () => {
  const r = await withStdin(['explain', '-'], [NGINX_TIMEOUT, '', 'all is well', HAPROXY_REFUSED].join('\n') + '\n');
  expect(r.code, r.stderr).toBe(0);
  const blocks = r.stdout.split(/\n(?=── )/);
  expect(blocks).toHaveLength(3);
  expect(blocks[0]).toMatch(/^── 2026\/11\/24 10:00:00 \[error\] 7#7: \*3 upstream timed out[^\n]*\nread-timeout {2}\(nginx\)\n/);
  expect(blocks[0]).toContain('proxy_read_timeout');
  expect(blocks[1]).toMatch(/^── all is well\n {2}not recognised/);
  expect(blocks[2]).toMatch(/\nconnect-refused {2}\(haproxy\)\n/);
});

test('explain - --json writes one JSON object per line', async () => {
  const r = await withStdin(['explain', '-', '--json'], `${NGINX_TIMEOUT}\nall is well\n`);
  expect(r.code, r.stderr).toBe(0);
  const objects = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  expect(objects).toMatchObject([
    { line: NGINX_TIMEOUT, gateway: 'nginx', reason: 'read-timeout' },
    { line: 'all is well', reason: null },
  ]);
});

test('explain - with nothing it knows, or nothing at all, is a one-paragraph error', async () => {
  const none = await withStdin(['explain', '-'], 'all is well\nstill well\n');
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/^badgateway: none of the 2 lines on stdin has a reason badgateway knows\. Paste the whole error-log line/);
  const empty = await withStdin(['explain', '-'], '');
  expect(empty.code).toBe(2);
  expect(empty.stderr).toMatch(/^badgateway: explain - read no line on stdin\. Pipe log lines in/);
  expect(empty.stderr.trim().split('\n')).toHaveLength(1);
});

test('explain --file groups a log by reason: count, meaning, one example; other lines counted', async () => {
  const log = join(dir, 'error.log');
  await writeFile(log, [NGINX_NOTICE, NGINX_CLOSED(1), NGINX_TIMEOUT, NGINX_CLOSED(2), '', NGINX_CLOSED(3), 'garbage line'].join('\n') + '\n');
  const r = await runCli(['explain', '--file', log]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^${log}: 6 lines, 4 with a reason badgateway knows, 2 not recognised\n`));
  // The most frequent reason first, each with its meaning and the first line that had it.
  const closed = r.stdout.indexOf('3  upstream-closed-early  (nginx)');
  const timeout = r.stdout.indexOf('1  read-timeout  (nginx)');
  expect(closed).toBeGreaterThan(0);
  expect(timeout).toBeGreaterThan(closed);
  expect(r.stdout).toContain(`e.g. ${NGINX_CLOSED(1).slice(0, 150)}`);
  expect(r.stdout).not.toContain('*2 upstream prematurely closed');
  expect(r.stdout).toContain('reproduce: badgateway run --gateway nginx --only never-respond');

  const j = await runCli(['explain', '--file', log, '--json']);
  expect(j.code).toBe(0);
  const d = JSON.parse(j.stdout);
  expect(d).toMatchObject({ lines: 6, recognised: 4, unrecognised: 2 });
  expect(d.reasons.map((g: { reason: string; count: number }) => [g.reason, g.count])).toEqual([
    ['upstream-closed-early', 3],
    ['read-timeout', 1],
  ]);
  expect(d.reasons[0].example).toBe(NGINX_CLOSED(1));
});

test('explain --file - reads the log from stdin; a log with nothing known says so and exits 0', async () => {
  const r = await withStdin(['explain', '--file', '-'], `${NGINX_NOTICE}\n`);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^stdin: 1 line, 0 with a reason badgateway knows, 1 not recognised\n/);
  expect(r.stdout).toMatch(/No line has a reason badgateway knows\./);
});

test('explain --file mistakes: a missing file, a folder, a line as well, nothing at all', async () => {
  const missing = await runCli(['explain', '--file', join(dir, 'nope.log')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/^badgateway: cannot read --file .*nope\.log: no such file\. Give the path of a gateway's log file, or - to read lines from stdin\.\n$/);
  const folder = await runCli(['explain', '--file', dir]);
  expect(folder.code).toBe(2);
  expect(folder.stderr).toMatch(/is a folder\. Give one log file/);
  const both = await runCli(['explain', '--file', join(dir, 'x.log'), NGINX_TIMEOUT]);
  expect(both.code).toBe(2);
  expect(both.stderr).toMatch(/explain takes a line or --file, not both/);
  const nothing = await runCli(['explain']);
  expect(nothing.code).toBe(2);
  expect(nothing.stderr).toMatch(/explain needs a log line: .*explain -.*--file LOG/);
});
