/**
 * `run --shard k/n` and `merge-reports` through the built CLI and real gateways (nginx and
 * Apache as local processes: Debian bookworm's nginx 1.22.1 and Apache 2.4, where the built-in
 * expectations of these scenarios were measured). Three shards cover each cell once, and their
 * reports merged give the unsharded run's result: the same cells, verdicts and counts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-shards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Scenarios whose verdicts do not hang on timing (no timeouts raced), so four runs side by side on a busy machine agree.
const ONLY = ['healthy', 'empty-reply', 'dns-nxdomain', 'keepalive-stale-get', 'connect-refused'].flatMap((id) => ['--only', id]);
const RUN = ['run', '--runtime', 'process', '--gateway', 'nginx,apache', ...ONLY];

interface Report {
  summary: { passed: number; failed: number; observed: number; skipped: number };
  shard: { count: number; covered: number[]; cells: string[]; total: number };
  runs: Array<{ gateway: string; cases: Array<{ scenario: string; state: string }>; skipped: Array<{ scenario: string }> }>;
}
const readJson = async (file: string): Promise<Report> => JSON.parse(await readFile(file, 'utf8'));

/** What a run decided, without what changes from one run to the next: timings, the response heads' Date, the gateway's log lines (times, ports). */
function normalised(report: unknown): unknown {
  const VARYING = new Set(['durationMs', 'firstByteMs', 'head', 'headers', 'preview', 'bodyPreview', 'log']);
  return JSON.parse(JSON.stringify(report, (k, v) => (VARYING.has(k) ? undefined : v)));
}

/** The cells a report holds, from its cases and skips. */
const cellsIn = (r: Report) => r.runs.flatMap((run) => [...run.cases, ...run.skipped].map((c) => `${run.gateway}/${c.scenario}`)).sort();

describe('three shards and the unsharded run', () => {
  let shards: CliResult[];
  let whole: CliResult;
  beforeAll(async () => {
    // Side by side, as CI jobs would run.
    [whole, ...shards] = await Promise.all([
      runCli([...RUN, '--reporter', `json:${join(dir, 'whole.json')}`, '--reporter', `junit:${join(dir, 'whole.xml')}`]),
      ...[1, 2, 3].map((k) => runCli([...RUN, '--shard', `${k}/3`, '--reporter', `json:${join(dir, `shard-${k}.json`)}`])),
    ]);
  }, 120_000);

  test('each shard covers its own cells, and together each cell exactly once', async () => {
    for (const r of [whole, ...shards]) expect(r.code, r.stdout + r.stderr).toBe(0);
    const all = await readJson(join(dir, 'whole.json'));
    expect(all.shard).toMatchObject({ count: 1, covered: [1], total: 10 });
    expect(cellsIn(all)).toEqual(all.shard.cells);
    const parts = await Promise.all([1, 2, 3].map((k) => readJson(join(dir, `shard-${k}.json`))));
    parts.forEach((p, i) => {
      expect(p.shard).toMatchObject({ count: 3, covered: [i + 1], total: 10 });
      // What the shard reports is exactly the cells it records: none of another shard's appear as skipped or failed.
      expect(cellsIn(p)).toEqual(p.shard.cells);
    });
    const union = parts.flatMap((p) => p.shard.cells).sort();
    expect(union).toEqual(all.shard.cells);
    expect(new Set(union).size).toBe(union.length);
    // 9 runnable cells over 3 shards: 3 each (Apache's dns-nxdomain skip rides with an Apache shard).
    expect(shards[0]!.stdout).toMatch(/^shard 1\/3: [34] of 10 cells$/m);
  });

  test('merged, they are the unsharded run: the same verdict per cell and the same counts; JUnit agrees case by case', async () => {
    const merged = join(dir, 'merged.json');
    const xml = join(dir, 'merged.xml');
    const html = join(dir, 'merged.html');
    const r = await runCli(['merge-reports', ...[3, 1, 2].map((k) => join(dir, `shard-${k}.json`)), '--reporter', `json:${merged}`, '--reporter', `junit:${xml}`, '--reporter', `html:${html}`, '--reporter', 'console']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}dns-nxdomain +pass +skip$/m);
    expect(r.stdout).toMatch(/9 passed, 0 failed, 1 skipped in [\d.]+ s\n/);
    expect(r.stdout).toContain(`wrote json report to ${merged}\nwrote junit report to ${xml}\nwrote html report to ${html}\n`);
    const [a, b] = [await readJson(join(dir, 'whole.json')), await readJson(merged)];
    expect(a.summary).toMatchObject({ passed: 9, failed: 0, observed: 0, skipped: 1 });
    expect(normalised(b.summary)).toEqual(normalised(a.summary));
    expect(normalised(b)).toEqual(normalised(a));
    const cases = (text: string) => [...text.matchAll(/<testcase classname="([^"]+)" name="([^"]+)"[^>]*>(<failure|<skipped)?/g)].map((m) => `${m[1]} ${m[2]} ${m[3] ?? 'pass'}`).sort();
    const [wholeXml, mergedXml] = [await readFile(join(dir, 'whole.xml'), 'utf8'), await readFile(xml, 'utf8')];
    expect(cases(mergedXml)).toEqual(cases(wholeXml));
    expect(cases(mergedXml)).toHaveLength(10);
    expect(await readFile(html, 'utf8')).toMatch(/<p class="why">/);
  });

  test('a missing shard is exit 2 naming it; --allow-partial renders the rest with a warning', async () => {
    const given = [1, 3].map((k) => join(dir, `shard-${k}.json`));
    const refused = await runCli(['merge-reports', ...given]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^badgateway: shard 2\/3 is missing \(given: 1\/3 from \S+shard-1\.json, 3\/3 from \S+shard-3\.json; \d+ of 10 cells\)\. Pass every shard's JSON report, or --allow-partial to render what is there\.\n$/);
    const partial = await runCli(['merge-reports', ...given, '--allow-partial']);
    expect(partial.code).toBe(0);
    expect(partial.stderr).toMatch(/^badgateway: warning: shard 2\/3 missing \(--allow-partial\): this report holds \d+ of 10 cells\.\n$/);
    expect(partial.stdout).toMatch(/^shards 1\/3, 3\/3 of 3: \d+ of 10 cells \(missing: 2\/3\)$/m);
  });
});

describe('exit codes and empty shards', () => {
  let suite: string;
  beforeAll(async () => {
    suite = join(dir, 'suite');
    await mkdir(suite, { recursive: true });
    // Wrong on purpose: nginx answers a healthy upstream with 200 (measured on 1.22.1).
    await writeFile(join(suite, 'healthy-wrong.yaml'), 'description: expected wrongly on purpose\nfault: healthy\nexpect:\n  nginx:\n    status: 503\n');
    await writeFile(join(suite, 'empty-reply.yaml'), 'description: a 502, as nginx 1.22.1 answers\nfault: empty-reply\nexpect:\n  nginx:\n    status: 502\n');
  });

  test('a failure in any shard fails the merged result (exit 1), as it fails the run', { timeout: 60_000 }, async () => {
    const runs = await Promise.all([1, 2].map((k) => runCli(['run', '--runtime', 'process', '--suite', suite, '--shard', `${k}/2`, '--reporter', `json:${join(dir, `f${k}.json`)}`])));
    // One cell per shard: one of them holds the wrong expectation.
    expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
    const r = await runCli(['merge-reports', join(dir, 'f1.json'), join(dir, 'f2.json'), '--reporter', 'markdown']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^## badgateway: 1 passed, 1 failed$/m);
    expect(r.stdout).toMatch(/<b>healthy-wrong<\/b> on nginx .*status: expected 503, observed 200/);
  });

  test('a shard with no cell is an empty, passing run that says so, and starts no gateway', { timeout: 30_000 }, async () => {
    const report = join(dir, 'empty.json');
    const r = await runCli(['run', '--runtime', 'process', '--suite', suite, '--shard', '3/3', '--reporter', `json:${report}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^shard 3\/3: none of the suite's 2 cells fall in this shard \(fewer cells than shards\); nothing to run, nothing failed$/m);
    expect(r.stdout).not.toMatch(/nginx 1\.\d+/);
    expect(r.stdout).toMatch(/0 passed, 0 failed in [\d.]+ s/);
    expect((await readJson(report)).shard).toEqual({ count: 3, covered: [3], cells: [], total: 2 });
  });
});
