/**
 * The reporter registry's contract: every reporter in src/report/ is listed in index.ts
 * under its file name, and each turns a small suite result into text that names what failed.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { CaseResult, SuiteResult } from '../harness/run.js';
import type { Outcome } from '../probe/http-probe.js';
import { scenarioFixture } from '../../test/helpers/scenario.js';
import { REPORTERS } from './index.js';
import { isReporter, type Reporter } from './reporter.js';

const DIR = fileURLToPath(new URL('./', import.meta.url));
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

/** What is wrong with a module's reporters against the registry; empty when it keeps the contract. */
function problemsOf(file: string, mod: Record<string, unknown>, registry: readonly Reporter[]): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(mod)) {
    if (!isReporter(value)) continue;
    if (!registry.includes(value)) problems.push(`${file}.ts exports a Reporter (${name}, id "${value.id}") that src/report/index.ts does not list`);
    else if (value.id !== file) problems.push(`${file}.ts exports reporter "${value.id}"; a reporter's id is its file name`);
  }
  return problems;
}

const scenario = scenarioFixture;

const outcome = (status: number, durationMs: number): Outcome => ({
  kind: 'response',
  status,
  body: 'complete',
  bodyBytes: 11,
  end: 'complete',
  durationMs,
  bytes: 120,
  preview: `HTTP/1.1 ${status} ...`,
} as Outcome);

const base = { gateway: 'nginx', version: '1.22.1', runtime: 'process' as const };

const failing: CaseResult = {
  ...base,
  scenario: scenario('empty-reply'),
  outcomes: [outcome(502, 12)],
  logs: [{ raw: '[error] upstream prematurely closed connection while reading response header from upstream', level: 'error', reason: 'upstream-closed-early' }],
  observed: { status: 502, body: 'complete', reasons: ['upstream-closed-early'], durationMs: 12 },
  expectation: { status: 504 },
  verdict: { pass: false, mismatches: [{ field: 'status', expected: '504', observed: '502' }] },
  durationMs: 12,
};

const sequence: CaseResult = {
  ...base,
  scenario: scenario('keepalive-stale-get', { fault: 'keepalive-stale', sequence: { count: 3, spacingMs: 100, concurrency: 1 } }),
  outcomes: [outcome(200, 5), outcome(200, 6), outcome(200, 4)],
  logs: [],
  observed: { status: 200, body: 'complete', reasons: [], durationMs: 6, counts: { '200': 3 } },
  expectation: { counts: { '200': '3' } },
  verdict: { pass: true, mismatches: [] },
  durationMs: 215,
};

const SMALL_RESULT: SuiteResult = {
  runs: [{ ...base, source: '/usr/sbin/nginx', cases: [failing, sequence], skipped: [{ scenario: scenario('dns-ok'), why: 'not here' }], durationMs: 300 }],
  durationMs: 310,
  passed: 1,
  failed: 1,
  unchecked: 0,
  skipped: 1,
};

describe('the reporter registry', () => {
  test('every reporter in src/report/ is listed, under its file name, and nothing is listed twice', async () => {
    const problems: string[] = [];
    for (const file of files) problems.push(...problemsOf(file, (await import(/* @vite-ignore */ new URL(`./${file}.ts`, import.meta.url).href)) as Record<string, unknown>, REPORTERS));
    expect(problems).toEqual([]);
    const ids = REPORTERS.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(files, `${id} has no file src/report/${id}.ts`).toContain(id);
  });

  test('the check finds a reporter file whose registry line is missing', () => {
    const extra: Reporter = { id: 'tap', describe: 'TAP', extension: '.tap', render: () => 'not ok 1' };
    expect(problemsOf('tap', { default: extra }, REPORTERS)).toEqual(['tap.ts exports a Reporter (default, id "tap") that src/report/index.ts does not list']);
    expect(problemsOf('tap', { default: extra }, [...REPORTERS, extra])).toEqual([]);
  });

  test.each(REPORTERS.map((r) => [r.id, r] as const))('%s describes itself in one line and renders a suite result that names the failure', (_id, r) => {
    expect(r.describe).toMatch(/^[^\n]{10,200}$/);
    expect(r.extension).toMatch(/^\.[a-z]+$/);
    for (const color of [false, true]) {
      const text = r.render(SMALL_RESULT, { color, baseDir: process.cwd() });
      expect(text.trim().length).toBeGreaterThan(0);
      expect(text).toContain('empty-reply');
    }
    // Colour is for a terminal only: without it no escape code.
    // eslint-disable-next-line no-control-regex
    expect(r.render(SMALL_RESULT, { color: false })).not.toMatch(/\x1b\[/);
  });
});
