/**
 * `badgateway load` through the built CLI and a real nginx (process runtime), at small rates
 * to 127.0.0.1 only: the JSON report's counts add up, a 1 % fault share shows as a 502 share
 * within the binomial bound, Ctrl-C stops at once with a partial report and nothing left, and
 * bad input is one paragraph with exit 2.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, runCli, startCli, waitForOutput, type CliResult } from '../helpers/cli.js';
import { leftIn, processesNaming } from '../helpers/interrupt.js';
import type { LoadResult } from '../../src/load/run.js';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'bg-load-test-'))));
afterAll(async () => rm(dir, { recursive: true, force: true }));

const sum = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);

async function load(args: readonly string[]): Promise<{ r: CliResult; report: LoadResult }> {
  const file = join(dir, `load-${Math.random().toString(36).slice(2)}.json`);
  const r = await runCli(['load', '--gateway', 'nginx', '--runtime', 'process', ...args, '--reporter', `json:${file}`], {}, 60_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { r, report: JSON.parse(await readFile(file, 'utf8')) as LoadResult };
}

describe('load through nginx', () => {
  test('the counts add up to the requests sent', { timeout: 60_000 }, async () => {
    const { r, report } = await load(['--rate', '200/s', '--duration', '2s', '--mix', 'healthy:9,empty-reply:1', '--seed', '3']);
    expect(report.due).toBe(400);
    // A request due while every connection is busy until the end is never sent, and says so.
    expect(report.sent + report.unsent).toBe(report.due);
    expect(report.sent).toBeGreaterThan(300);
    expect(sum(report.byStatus)).toBe(report.sent);
    expect(sum(report.byBody)).toBe(report.sent);
    expect(report.byFault.reduce((a, f) => a + f.sent, 0)).toBe(report.sent);
    for (const f of report.byFault) expect(sum(f.byStatus)).toBe(f.sent);
    expect(report.errors.of).toBe(report.sent);
    expect(report.latencyMs!.p50).toBeLessThanOrEqual(report.latencyMs!.p99);
    expect(report.latencyMs!.p99).toBeLessThanOrEqual(report.latencyMs!.max);
    // empty-reply through nginx 1.22.1: a 502 each, logged as upstream-closed-early.
    expect(report.byFault.find((f) => f.fault === 'empty-reply')!.byStatus).toEqual({ 502: report.byFault.find((f) => f.fault === 'empty-reply')!.sent });
    expect(report.logReasons.map((x) => x.reason)).toContain('upstream-closed-early');
    // The console report goes to stdout with the file reporter; it ends with the replay line.
    // Not a terminal: no live progress line.
    expect(r.stdout).not.toMatch(/\r|\x1b\[K/);
    expect(r.stdout).toContain('replay: badgateway load --gateway nginx --runtime process --rate 200/s --duration 2s --connections 64 --method GET --mix healthy:9,empty-reply:1 --seed 3');
  });

  test('1 % reset-after-request gives a 502 share within the binomial bound of 1 %', { timeout: 60_000 }, async () => {
    // 256 connections: a stall of this busy machine must not leave requests unsent, though the bound would hold for those sent.
    const { report } = await load(['--rate', '1000/s', '--duration', '3s', '--connections', '256', '--method', 'POST', '--mix', 'healthy:99,reset-after-request:1', '--seed', '7']);
    expect(report.due).toBe(3000);
    expect(report.sent + report.unsent).toBe(3000);
    const n = report.sent;
    expect(n).toBeGreaterThan(2500);
    const p = 0.01;
    // Each request's fault is an independent draw with p = 1 %: the 502 count is Binomial(n, p).
    // 99.9 % two-sided normal bound, |X - np| <= 3.29 sqrt(np(1-p)): about 30 ± 18 here.
    const bound = 3.29 * Math.sqrt(n * p * (1 - p));
    const got502 = report.byStatus['502'] ?? 0;
    expect(Math.abs(got502 - n * p)).toBeLessThanOrEqual(bound);
    // And the 502s are the reset requests (nginx 1.22.1 answers each with a 502, POST or GET).
    const reset = report.byFault.find((f) => f.fault === 'reset-after-request')!;
    expect(reset.byStatus).toEqual({ 502: reset.sent });
    expect(report.logReasons.find((x) => x.reason === 'upstream-reset')?.example).toMatch(/Connection reset by peer/);
    expect(report.errors.low).toBeLessThanOrEqual(report.errors.rate);
    expect(report.errors.high).toBeGreaterThanOrEqual(report.errors.rate);
  });

  test('the same seed sends the same faults in the same order; another seed other faults', { timeout: 60_000 }, async () => {
    const a = (await load(['--rate', '200/s', '--duration', '1s', '--mix', 'healthy:4,empty-reply:1', '--seed', '11'])).report;
    const b = (await load(['--rate', '200/s', '--duration', '1s', '--mix', 'healthy:4,empty-reply:1', '--seed', '11'])).report;
    expect(b.byFault.map((f) => f.sent)).toEqual(a.byFault.map((f) => f.sent));
    expect(b.sequenceDigest).toBe(a.sequenceDigest);
    expect(a.settings.seed).toBe(11);
    const c = (await load(['--rate', '200/s', '--duration', '1s', '--mix', 'healthy:4,empty-reply:1', '--seed', '12'])).report;
    expect(c.sequenceDigest).not.toBe(a.sequenceDigest);
  });

  // util-linux `script` gives the CLI a terminal, as a person's shell would.
  test.skipIf(!existsSync('/usr/bin/script'))('on a terminal, a live line shows the rate, the errors so far and the time left', { timeout: 60_000 }, async () => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} load --gateway nginx --runtime process --rate 100/s --duration 1s --mix healthy:4,empty-reply:1 --seed 2`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' }, timeout: 50_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(out).toMatch(/\r\x1b\[K  \d+\/s · sent \d+ · errors \d+ \(\d+\.\d\d %\) · 0\.\d s left/);
    // The line is cleared before the report.
    expect(out).toMatch(/\r\x1b\[Kbadgateway load: nginx/);
  });

  test('Ctrl-C stops within a second, prints the partial report, exits 130 and leaves nothing behind', { timeout: 60_000 }, async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'bg-load-interrupt-'));
    try {
      const cli = startCli(['load', '--gateway', 'nginx', '--runtime', 'process', '--rate', '200/s', '--duration', '30s', '--mix', 'healthy:8,empty-reply:1,never-respond:1', '--seed', '5'], { TMPDIR: tmp });
      await waitForOutput(cli.output, /nginx [\d.]+ \(process\): 200\/s for 30 s, seed 5/, 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      const at = performance.now();
      cli.child.kill('SIGINT');
      const r = await cli.done;
      const tookMs = performance.now() - at;
      expect(r.code).toBe(130);
      expect(r.stdout).toMatch(/\(interrupted: partial report\)/);
      expect(r.stdout).toMatch(/^replay: badgateway load /m);
      // never-respond requests were in flight: counted as unfinished, not as errors.
      expect(r.stdout).toMatch(/unfinished/);
      // The gateway's log is read before it stops: the partial report has its reasons.
      expect(r.stdout.slice(r.stdout.indexOf('gateway log reasons'))).toMatch(/^  upstream-closed-early  \d+$/m);
      expect(tookMs).toBeLessThan(1000);
      expect(await leftIn(tmp)).toEqual([]);
      expect(processesNaming(tmp)).toBe('');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe.concurrent('bad input', () => {
  test.each([
    [['--rate', 'abc'], /^badgateway: --rate abc is not a rate: give requests per second as N\/s/],
    [['--mix', 'unknown-fault:1'], /^badgateway: --mix unknown-fault:1: unknown fault "unknown-fault"\. Closest: /],
    [['--duration', '-1'], /^badgateway: --duration -1 is not a duration/],
    [['--connections', '0'], /^badgateway: --connections 0 is out of range/],
    [['--mix', 'connect-refused:1'], /^badgateway: --mix connect-refused:1: "connect-refused" is a listener fault/],
    [['--reporter', 'pdf:x.pdf'], /^badgateway: --reporter "pdf:x\.pdf": load writes console, json, markdown, html/],
  ])('load %j', async (args, message) => {
    const r = await runCli(['load', '--runtime', 'process', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).not.toMatch(/\n\s*\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
