/**
 * `reproduce`, `--sweep`, `--scenario` and the HTML report through the built CLI and a real
 * nginx (process runtime), at small rates to 127.0.0.1 only. The production log is one this test
 * makes: a known mix of faults sent through nginx with `load --save-log`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { ReproduceResult } from '../../src/load/reproduce.js';
import type { SweepResult } from '../../src/load/sweep.js';
import type { LoadResult } from '../../src/load/run.js';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'bg-repro-test-'))));
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('reproduce through nginx', () => {
  test('an nginx error log of a known fault mix gives back the same reasons, each share within the statistical bound', { timeout: 120_000 }, async () => {
    const log = join(dir, 'error.log');
    const made = await runCli(['load', '--gateway', 'nginx', '--runtime', 'process', '--rate', '200/s', '--duration', '3s', '--connections', '128', '--mix', 'healthy:4,empty-reply:3,reset-after-request:2,body-cut-fin-length:1,header-too-big:1', '--seed', '9', '--save-log', log, '--reporter', `json:${join(dir, 'made.json')}`], {}, 60_000);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    // What nginx 1.22.1 logs for each of those faults (test/load/load-cli.test.ts and the suite's expectations).
    const want = ['header-too-big', 'upstream-closed-early', 'upstream-reset', 'upstream-truncated'];
    const file = join(dir, 'repro.json');
    const r = await runCli(['reproduce', log, '--gateway', 'nginx', '--runtime', 'process', '--rate', '150/s', '--duration', '4s', '--connections', '64', '--seed', '4', '--reporter', `json:${file}`, '--reporter', `html:${join(dir, 'repro.html')}`], {}, 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(await readFile(file, 'utf8')) as ReproduceResult;
    // On this busy 2-core machine a healthy answer now and then misses nginx's read timeout: a
    // read-timeout line or two is the log telling the truth, and is reproduced like the rest.
    const n1 = rep.comparison.reduce((a, c) => a + c.production.count, 0);
    const main = rep.comparison.filter((c) => c.production.count > n1 * 0.01);
    expect(main.map((c) => c.reason).sort()).toEqual(want);
    // Nor does the reproduction bring a reason of its own: none outside the production's main ones
    // makes up more than 5 % of it (the odd read-timeout of a loaded machine stays far below).
    const n2 = rep.comparison.reduce((a, c) => a + c.reproduced.count, 0);
    const extra = rep.comparison.filter((c) => !want.includes(c.reason) && c.reproduced.count > n2 * 0.05);
    expect(extra.map((c) => `${c.reason} ${c.reproduced.count}/${n2}`)).toEqual([]);
    expect(rep.plan.mix.map((e) => e.fault)).toEqual(expect.arrayContaining(['body-cut-fin-length', 'empty-reply', 'header-too-big', 'reset-after-request']));
    // The two histograms are two multinomial samples of the same shares: each reason's share
    // differs by chance within the two-proportion bound, 99.9 % two-sided. Shares of the fault
    // mix's reasons: the odd read-timeout of a busy machine comes and goes with its load.
    const m1 = main.reduce((a, c) => a + c.production.count, 0);
    const m2 = main.reduce((a, c) => a + c.reproduced.count, 0);
    expect(m2).toBeGreaterThan(300);
    for (const c of main) {
      const p = (c.production.count + c.reproduced.count) / (m1 + m2);
      const bound = 3.29 * Math.sqrt(p * (1 - p) * (1 / m1 + 1 / m2));
      expect(Math.abs(c.production.count / m1 - c.reproduced.count / m2), c.reason).toBeLessThanOrEqual(bound);
    }
    // The first, shorter run measured nginx's lines per request for each scenario: about one (a retry on a reused connection makes it more).
    const faults = ['body-cut-fin-length', 'empty-reply', 'header-too-big', 'reset-after-request'];
    for (const y of rep.calibration!.yields.filter((y) => faults.includes(y.fault))) expect(y.linesPerRequest, y.fault).toBeGreaterThan(0.5);
    expect(r.stdout).toMatch(/^  upstream-closed-early +\d+ \(\d+\.\d %\) +\d+ \(\d+\.\d %\) +within bound +empty-reply$/m);
    const html = await readFile(join(dir, 'repro.html'), 'utf8');
    expect(html).toContain('<h1>badgateway reproduce</h1>');
    expect(html).toMatch(/<svg class="plot"/);
  });

  test('a log with no line nginx logs for an upstream error is one paragraph and exit 2', async () => {
    const log = join(dir, 'access.log');
    await writeFile(log, '127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"\n');
    const r = await runCli(['reproduce', log, '--gateway', 'nginx', '--runtime', 'process']);
    expect(r.stderr).toMatch(/^badgateway: .*access\.log: none of its 1 lines is one nginx logs for an upstream error/);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('load --sweep and --scenario', () => {
  test('a sweep runs once per value and reports one row per value; each row replays with its value', { timeout: 120_000 }, async () => {
    const file = join(dir, 'sweep.json');
    const r = await runCli(['load', '--gateway', 'nginx', '--runtime', 'process', '--rate', '50/s', '--duration', '1s', '--mix', 'healthy:1,keepalive-idle-close:1', '--sweep', 'idleMs=100,2000', '--seed', '3', '--reporter', `json:${file}`], {}, 90_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(await readFile(file, 'utf8')) as SweepResult;
    expect(s.param).toBe('idleMs');
    expect(s.rows.map((x) => x.value)).toEqual([100, 2000]);
    for (const row of s.rows) {
      expect(row.result.byFault.map((f) => f.fault)).toEqual(['healthy', `keepalive-idle-close?idleMs=${row.value}`]);
      expect(row.result.command).toContain(`--mix 'healthy:1,keepalive-idle-close?idleMs=${row.value}:1'`);
      expect(row.result.sent).toBe(50);
    }
    expect(r.stdout).toMatch(/^  idleMs=100 +50 /m);
    expect(r.stdout).toMatch(/^  idleMs=2000 +50 /m);
  });

  test("--scenario drives a scenario by its load: block; a flag given wins over the block", { timeout: 60_000 }, async () => {
    const sc = join(dir, 'burst-of-resets.yaml');
    await writeFile(sc, 'description: a few resets in healthy traffic\nfault: reset-after-request\nexpect: {}\nload:\n  rate: 40/s\n  duration: 1s\n  connections: 8\n  method: POST\n  mix: { healthy: 3, reset-after-request: 1 }\n');
    const file = join(dir, 'scenario.json');
    const r = await runCli(['load', '--gateway', 'nginx', '--runtime', 'process', '--suite', sc, '--scenario', 'burst-of-resets', '--connections', '16', '--seed', '1', '--reporter', `json:${file}`], {}, 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(await readFile(file, 'utf8')) as LoadResult;
    expect(rep.settings).toMatchObject({ rate: 40, durationMs: 1000, connections: 16, method: 'POST' });
    expect(rep.byFault.map((f) => [f.fault, f.weight])).toEqual([['healthy', 3], ['reset-after-request', 1]]);
    const none = await runCli(['load', '--runtime', 'process', '--scenario', 'empty-reply']);
    expect(none.stderr).toMatch(/^badgateway: --scenario empty-reply: .*empty-reply\.yaml has no load: block/);
    expect(none.code).toBe(2);
  });
});
