/**
 * What a person sees from `badgateway run`, through real gateways: the console with file
 * reporters, where each file went, the scenario × gateway matrix, a sequence's whole
 * duration, what ran (binary and version), and an interrupted run that prints no
 * in-flight scenario as a result.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-reports-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** keepalive-stale-get sends 12 requests 20 ms apart: its whole length is at least 11 × 20 ms. */
const SEQUENCE_MIN_MS = 11 * 20;

test('file reporters only: the console summary, the matrix, and where each file went', { timeout: 60_000 }, async () => {
  const junit = join(dir, 'r.xml');
  const html = join(dir, 'r.html');
  const r = await runCli([
    'run', '--runtime', 'process', '--gateway', 'nginx,apache',
    '--only', 'healthy', '--only', 'dns-nxdomain', '--only', 'keepalive-stale-get',
    '--reporter', `junit:${junit}`, '--reporter', `html:${html}`,
  ]);
  expect(r.code, r.stderr).toBe(0);
  // The header names what ran: the binary and the version it reported.
  expect(r.stdout).toMatch(/^nginx 1\.\d+\.\d+ \(process\): 3 scenarios · from \/\S*\/nginx$/m);
  expect(r.stdout).toMatch(/^apache 2\.4\.\d+ \(process\): 2 scenarios · from \/\S*\/apache2$/m);
  // A sequence's time is first request to last answer, not its longest request.
  const live = /· nginx keepalive-stale-get {2}12 requests in (\d+) ms/.exec(r.stdout);
  expect(live, r.stdout).not.toBeNull();
  expect(Number(live![1])).toBeGreaterThanOrEqual(SEQUENCE_MIN_MS);
  const final = /pass {2}keepalive-stale-get .*· 12 requests in (\d+) ms$/m.exec(r.stdout);
  expect(Number(final![1])).toBeGreaterThanOrEqual(SEQUENCE_MIN_MS);
  // With several gateways the console ends with the matrix: scenarios down, gateways across.
  expect(r.stdout).toMatch(/^ {2}scenario +nginx +apache$/m);
  expect(r.stdout).toMatch(/^ {2}dns-nxdomain +pass +skip$/m);
  expect(r.stdout).toMatch(/^ {2}healthy +pass +pass$/m);
  expect(r.stdout).toMatch(/^ {2}keepalive-stale-get +pass +pass$/m);
  expect(r.stdout).toMatch(/5 passed, 0 failed, 1 skipped in [\d.]+ s\n/);
  expect(r.stdout).toContain(`wrote junit report to ${junit}\nwrote html report to ${html}\n`);
  expect((await stat(junit)).size).toBeGreaterThan(0);
  expect(await readFile(html, 'utf8')).toMatch(/<p class="why">/);
  expect(await readFile(junit, 'utf8')).toMatch(/<property name="source" value="\/\S*\/nginx"\/>/);
});

test('a report on stdout stays clean: the console steps aside and the paths go to stderr', { timeout: 60_000 }, async () => {
  const md = join(dir, 'summary.md');
  const r = await runCli(['run', '--runtime', 'process', '--only', 'keepalive-stale-get', '--only', 'healthy', '--reporter', 'json', '--reporter', `markdown:${md}`]);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.runs[0].source).toMatch(/\/nginx$/);
  const seq = report.runs[0].cases.find((c: { scenario: string }) => c.scenario === 'keepalive-stale-get');
  expect(seq.durationMs).toBeGreaterThanOrEqual(SEQUENCE_MIN_MS);
  // observed.durationMs stays the longest single request: what a maxMs expectation holds.
  expect(seq.observed.durationMs).toBeLessThan(seq.durationMs);
  expect(r.stderr).toContain(`wrote markdown report to ${md}`);
  const cell = /\| keepalive-stale-get \| ✅ 12×200 · upstream-closed-early · (\d+) ms \|/.exec(await readFile(md, 'utf8'));
  expect(Number(cell![1])).toBeGreaterThanOrEqual(SEQUENCE_MIN_MS);
});

test('with your own config, JUnit says what the config changed, not "no expectation"', { timeout: 60_000 }, async () => {
  const junit = join(dir, 'config.xml');
  const r = await runCli(['run', '--runtime', 'process', '--config', 'test/fixtures/nginx-next-upstream.conf', '--only', 'empty-reply', '--only', 'body-cut-fin-length', '--reporter', `junit:${junit}`]);
  expect(r.code, r.stderr).toBe(0);
  const xml = await readFile(junit, 'utf8');
  expect(xml).toMatch(/name="empty-reply" [^>]*><skipped message="hidden by your config \(default config: 502\): observed 200/);
  expect(xml).toMatch(/name="body-cut-fin-length" [^>]*><skipped message="as with the default config \(200 truncated\): observed 200/);
});

test('an interrupted run prints no in-flight scenario as probed', { timeout: 60_000 }, async () => {
  const tmp = await mkdtemp(join(dir, 'tmp-'));
  const cli = startCli(['run', '--runtime', 'process', '--only', 'never-respond', '--only', 'healthy'], { TMPDIR: tmp });
  await waitForOutput(cli.output, /· nginx healthy /, 30_000);
  // never-respond holds its request for a second: it is in flight now.
  cli.child.kill('SIGINT');
  const r = await cli.done;
  expect(r.code).toBe(130);
  expect(r.stdout).not.toMatch(/never-respond/);
});
