/**
 * JSON reports back into a suite result, and the reports of a sharded run's jobs merged into
 * one, from which every reporter renders as from an unsharded run. Pure: the CLI reads the files
 * (`badgateway merge-reports`).
 *
 * A merge checks that the reports belong together: the same format version, the same suite and
 * gateways (the digest of src/harness/shard.ts), the same number of shards, each shard and each
 * cell once, and each gateway the same version from the same binary or image. Shards missing
 * are an error that names them, unless the caller allows a partial merge: then the result says
 * which shards it holds.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { LogEntry } from '../gateways/gateway.js';
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import { gatewayKey, type ShardCoverage, type SuiteIdentity } from '../harness/shard.js';
import type { Outcome } from '../probe/http-probe.js';
import type { Expectation, Scenario } from '../scenarios/scenario.js';
import type { Observed } from '../harness/evaluate.js';
import { REPORT_FORMAT, REPORT_FORMAT_VERSION } from './json.js';

const mismatch = z.object({ field: z.string(), expected: z.string(), observed: z.string(), message: z.string().optional() });
/** A case the gateway died of ("gateway crashed"): src/harness/crash.ts. */
const crash = z.object({
  signal: z.string().nullable(),
  code: z.number().nullable(),
  lastLogLines: z.array(z.string()),
  inFlightWith: z.array(z.string()).optional(),
});
const observed = z.looseObject({
  status: z.union([z.number(), z.string()]),
  body: z.enum(['complete', 'truncated', 'none']),
  reasons: z.array(z.string()),
  durationMs: z.number(),
  crash: crash.optional(),
});
const outcome = z.looseObject({
  kind: z.string(),
  body: z.enum(['complete', 'truncated', 'none']),
  end: z.string(),
  durationMs: z.number(),
  bytes: z.number(),
  preview: z.string(),
});
const caseSchema = z.object({
  scenario: z.string(),
  fault: z.string(),
  file: z.string(),
  state: z.enum(['pass', 'fail', 'observed']),
  unjudged: z.string().optional(),
  observed,
  expected: z.looseObject({}).optional(),
  defaultConfig: z.looseObject({ expected: z.looseObject({}) }).optional(),
  faithful: z.object({ counterpart: z.string(), same: z.boolean().optional(), differs: z.array(z.string()), why: z.string().optional() }).optional(),
  provenance: z.union([z.object({ kind: z.literal('documented'), source: z.string() }), z.object({ kind: z.literal('measured'), version: z.string().optional() })]).optional(),
  // A security finding (src/harness/security.ts).
  security: z.object({ message: z.string(), directive: z.string().optional() }).optional(),
  mismatches: z.array(mismatch),
  durationMs: z.number(),
  outcomes: z.array(outcome),
  probes: z.array(z.number().int()).optional(),
  requestIds: z.array(z.string()).optional(),
  log: z.array(z.object({ level: z.string(), reason: z.string().optional(), line: z.string() })),
});
const runSchema = z.object({
  gateway: z.string(),
  version: z.string().optional(),
  runtime: z.string(),
  source: z.string().optional(),
  image: z.string().optional(),
  userConfig: z.string().optional(),
  durationMs: z.number(),
  external: z.object({ runId: z.string(), url: z.string(), upstream: z.string(), log: z.string().optional() }).loose().optional(),
  skipped: z.array(z.object({ scenario: z.string(), why: z.string() })),
  cases: z.array(caseSchema),
});
const reportSchema = z.object({
  format: z.literal(REPORT_FORMAT),
  formatVersion: z.literal(REPORT_FORMAT_VERSION),
  summary: z.object({ durationMs: z.number() }).loose(),
  runs: z.array(runSchema),
  shard: z.object({
    count: z.number().int().min(1),
    covered: z.array(z.number().int().min(1)).min(1),
    cells: z.array(z.string()),
    total: z.number().int().min(0),
  }),
  suite: z.object({
    digest: z.string(),
    gateways: z.array(z.string()),
    scenarios: z.array(z.object({ id: z.string(), fault: z.string(), file: z.string(), description: z.string() })),
  }),
});
type ReportJson = z.infer<typeof reportSchema>;

/** A report as read: its name for messages (the file), and the result every reporter renders. */
export interface ReadReport {
  readonly name: string;
  readonly result: SuiteResult & { readonly shard: ShardCoverage; readonly suite: SuiteIdentity };
}

const WRITE_ONE = 'merge-reports reads the JSON reports `badgateway run --reporter json:FILE` writes';

/** Parses one JSON report; anything else is a one-paragraph InputError (BG_BAD_REPORT) naming the file. */
export function readReport(name: string, text: string): ReadReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError('BG_BAD_REPORT', `${name} is not JSON (${(err as Error).message.split('\n')[0]}); ${WRITE_ONE}.`);
  }
  const obj = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  if (obj?.format !== REPORT_FORMAT) {
    // Reports from before the format was versioned have a summary and runs but no format field.
    const older = obj !== undefined && 'summary' in obj && 'runs' in obj && !('format' in obj);
    throw new InputError(
      'BG_BAD_REPORT',
      older
        ? `${name} is a badgateway JSON report from a version before reports carried a format version, and records no shard or cell list to merge by. Run the suite again with this badgateway (--reporter json:FILE).`
        : `${name} is JSON but not a badgateway report (it has no "format": "${REPORT_FORMAT}"); ${WRITE_ONE}.`,
    );
  }
  if (obj.formatVersion !== REPORT_FORMAT_VERSION) {
    throw new InputError(
      'BG_BAD_REPORT',
      `${name} is a badgateway report of format version ${JSON.stringify(obj.formatVersion)}, and this badgateway reads version ${REPORT_FORMAT_VERSION}. Merge it with the badgateway version that wrote it, or run every shard again with this one.`,
    );
  }
  const parsed = reportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'the top level';
    throw new InputError('BG_BAD_REPORT', `${name} is not a badgateway report as badgateway writes it: at ${where}, ${issue.message.toLowerCase()}. Was it edited? ${WRITE_ONE}.`);
  }
  // The data as written, not zod's copy: that one reorders the keys of loose objects (outcomes), and a report read back must render byte for byte as it was written.
  return { name, result: toResult(data as ReportJson) };
}

/**
 * A scenario as a report records it: what reporters show (id, file, fault, description). The
 * rest of a Scenario (its request, its expectations by key) is not in a report; the reporters
 * read none of it, which test/cli/merge-reports.test.ts holds by rendering every reporter from
 * a merged result.
 */
function reportedScenario(s: { id: string; fault: string; file: string; description: string }): Scenario {
  return { id: s.id, fault: s.fault, file: s.file, description: s.description } as Scenario;
}

function toResult(r: ReportJson): ReadReport['result'] {
  const byId = new Map(r.suite.scenarios.map((s) => [s.id, reportedScenario(s)]));
  const scenario = (id: string, fault = '', file = '') => byId.get(id) ?? reportedScenario({ id, fault, file, description: '' });
  const runs: GatewayRun[] = r.runs.map((run) => ({
    gateway: run.gateway,
    version: run.version,
    runtime: run.runtime,
    source: run.source,
    ...(run.image !== undefined ? { image: run.image } : {}),
    userConfig: run.userConfig,
    durationMs: run.durationMs,
    ...(run.external ? { external: { runId: run.external.runId, url: run.external.url, upstream: run.external.upstream, ...(run.external.log !== undefined ? { log: run.external.log } : {}) } } : {}),
    skipped: run.skipped.map((s) => ({ scenario: scenario(s.scenario), why: s.why })),
    cases: run.cases.map(
      (c): CaseResult => ({
        scenario: scenario(c.scenario, c.fault, c.file),
        gateway: run.gateway,
        version: run.version,
        runtime: run.runtime,
        outcomes: c.outcomes as unknown as Outcome[],
        logs: c.log.map((l) => ({ raw: l.line, level: l.level, reason: l.reason }) as LogEntry),
        observed: c.observed as unknown as Observed,
        expectation: c.expected as Expectation | undefined,
        verdict: c.state === 'observed' ? undefined : { pass: c.state === 'pass', mismatches: c.mismatches },
        unjudged: c.unjudged,
        baseline: c.defaultConfig?.expected as Expectation | undefined,
        durationMs: c.durationMs,
        ...(c.faithful ? { faithful: c.faithful } : {}),
        ...(c.provenance ? { provenance: c.provenance } : {}),
        ...(c.probes ? { probes: c.probes } : {}),
        ...(c.requestIds ? { requestIds: c.requestIds } : {}),
        ...(c.security ? { security: c.security } : {}),
      }),
    ),
  }));
  return { ...totals(runs), runs, durationMs: r.summary.durationMs, shard: r.shard, suite: r.suite };
}

function totals(runs: readonly GatewayRun[]): Pick<SuiteResult, 'passed' | 'failed' | 'unchecked' | 'skipped'> {
  const all = runs.flatMap((r) => r.cases);
  return {
    passed: all.filter((c) => c.verdict?.pass === true).length,
    failed: all.filter((c) => c.verdict?.pass === false).length,
    unchecked: all.filter((c) => c.verdict === undefined).length,
    skipped: runs.reduce((n, r) => n + r.skipped.length, 0),
  };
}

export interface MergeOptions {
  /** Render what is there when shards are missing, instead of refusing (the result says which shards it holds). */
  readonly allowPartial?: boolean;
}

export interface Merged {
  readonly result: SuiteResult;
  /** Shards of the suite no input held (1-based); empty for a complete merge. */
  readonly missing: readonly number[];
}

const shardList = (ks: readonly number[], n: number) => ks.map((k) => `${k}/${n}`).join(', ');

/**
 * One result from the reports of a sharded run's jobs. Complete, it is the result of the
 * unsharded run (coverage 1 of 1): its JSON differs from that run's only in timings and what the
 * gateways logged. Its duration is the slowest input's, as the jobs ran side by side.
 */
export function mergeReports(reports: readonly ReadReport[], opts: MergeOptions = {}): Merged {
  if (reports.length === 0) throw new InputError('BG_BAD_FLAG', 'merge-reports needs at least one JSON report: badgateway merge-reports shard-1.json shard-2.json ...');
  const first = reports[0]!;
  const { count, total } = first.result.shard;
  const shardOwner = new Map<number, string>();
  const cellOwner = new Map<string, string>();
  for (const r of reports) {
    const { shard, suite } = r.result;
    if (suite.digest !== first.result.suite.digest) {
      const gw = (s: SuiteIdentity) => [...s.gateways].sort().join(',');
      const what = gw(suite) !== gw(first.result.suite)
        ? `gateways ${suite.gateways.join(',')} where ${first.name} has ${first.result.suite.gateways.join(',')}`
        : 'other scenario definitions (another suite, --only, or edited scenario files)';
      throw new InputError('BG_REPORTS_MISMATCH', `${r.name} and ${first.name} come from different runs: ${r.name} has ${what}. Merge only the reports of one sharded run: the same suite, --only and gateways in every job, with --shard 1/n to n/n.`);
    }
    if (shard.count !== count) {
      throw new InputError('BG_REPORTS_MISMATCH', `${r.name} is ${shardList(shard.covered, shard.count)} and ${first.name} ${shardList(first.result.shard.covered, count)}: the suite was split ${shard.count} ways in one and ${count} in the other, so their cells do not line up. Give every job the same n in --shard k/n.`);
    }
    for (const k of shard.covered) {
      const before = shardOwner.get(k);
      if (before !== undefined) throw new InputError('BG_REPORTS_MISMATCH', `shard ${k}/${count} is in both ${before} and ${r.name}; each shard's report is merged once. Drop one of them.`);
      shardOwner.set(k, r.name);
    }
    for (const c of shard.cells) {
      const before = cellOwner.get(c);
      if (before !== undefined) throw new InputError('BG_REPORTS_MISMATCH', `cell ${c} is in both ${before} and ${r.name}; a cell belongs to one shard, so these reports are not shards of one split. Merge only the reports of one sharded run.`);
      cellOwner.set(c, r.name);
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !shardOwner.has(k));
  if (missing.length > 0 && !opts.allowPartial) {
    const given = [...shardOwner].sort(([a], [b]) => a - b).map(([k, name]) => `${k}/${count} from ${name}`).join(', ');
    throw new InputError('BG_SHARDS_MISSING', `shard${missing.length === 1 ? '' : 's'} ${shardList(missing, count)} ${missing.length === 1 ? 'is' : 'are'} missing (given: ${given}; ${cellOwner.size} of ${total} cells). Pass every shard's JSON report, or --allow-partial to render what is there.`);
  }
  if (missing.length === 0 && cellOwner.size !== total) {
    throw new InputError('BG_REPORTS_MISMATCH', `every shard of ${count} is here, but they hold ${cellOwner.size} cells where the suite has ${total}: the reports were not written by one split of one suite. Run every shard with the same badgateway.`);
  }

  const suite = first.result.suite;
  const order = new Map(suite.scenarios.map((s, i) => [s.id, i]));
  const bySuite = (a: { scenario: Scenario }, b: { scenario: Scenario }) => (order.get(a.scenario.id) ?? Infinity) - (order.get(b.scenario.id) ?? Infinity);
  const groups = new Map<string, Array<{ name: string; run: GatewayRun }>>();
  for (const r of reports) for (const run of r.result.runs) {
    const key = gatewayKey(run.gateway, run.image);
    groups.set(key, [...(groups.get(key) ?? []), { name: r.name, run }]);
  }
  const runs: GatewayRun[] = [];
  for (const key of suite.gateways) {
    const parts = groups.get(key);
    if (!parts) continue;
    const head = parts[0]!;
    for (const p of parts) {
      const differs = (['version', 'runtime', 'source', 'userConfig'] as const).find((f) => p.run[f] !== head.run[f]);
      if (differs) {
        const desc = (run: GatewayRun) => `${run.version ?? 'version unknown'} (${run.runtime}${run.source ? `, ${run.source}` : ''}${run.userConfig ? `, config ${run.userConfig}` : ''})`;
        throw new InputError('BG_REPORTS_MISMATCH', `${key} ran as ${desc(head.run)} in ${head.name} but as ${desc(p.run)} in ${p.name}: a merged report would judge one gateway by two ${differs === 'userConfig' ? 'configs' : 'builds'}. Run every shard on the same gateway build (the same image or package).`);
      }
    }
    runs.push({
      ...head.run,
      cases: parts.flatMap((p) => p.run.cases).sort(bySuite),
      skipped: parts.flatMap((p) => p.run.skipped).sort(bySuite),
      durationMs: Math.max(...parts.map((p) => p.run.durationMs)),
    });
  }
  const covered = [...shardOwner.keys()].sort((a, b) => a - b);
  const shard: ShardCoverage = missing.length === 0 ? { count: 1, covered: [1], cells: [...cellOwner.keys()].sort(), total } : { count, covered, cells: [...cellOwner.keys()].sort(), total };
  return {
    result: { ...totals(runs), runs, durationMs: Math.max(...reports.map((r) => r.result.durationMs)), shard, suite },
    missing,
  };
}
