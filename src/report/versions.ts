/**
 * One gateway in several versions, side by side: which scenarios the versions answer
 * differently. Pure: a finished run's result in, the rows where the versions differ out.
 * `badgateway versions` renders it (versions-matrix.ts).
 */
import type { CaseResult, GatewayRun, SuiteResult } from '../harness/run.js';
import type { Expectation } from '../scenarios/scenario.js';
import { caseState, matrix, type CaseState, type MatrixRow } from './model.js';

/** What a version did, as compared: the parts of an outcome that say what the gateway did, not how long it took. */
export type Field = 'ran' | 'status' | 'statuses' | 'body' | 'reason' | 'websocket';

export interface VersionColumn {
  readonly gateway: string;
  readonly version: string | undefined;
  readonly runtime: string;
  readonly source: string | undefined;
  /** "nginx 1.22.1 (badgateway/nginx:bookworm)", or "(process: /usr/sbin/nginx)" for the local binary. */
  readonly label: string;
  /** A header short enough for a terminal column, still unique among the columns: the version, then what ran it. */
  readonly short: string;
  readonly passed: number;
  readonly failed: number;
  readonly observed: number;
  readonly skipped: number;
  readonly durationMs: number;
}

export interface VersionCell {
  readonly case?: CaseResult;
  readonly skipped?: string;
}

export interface VersionRow {
  readonly scenario: MatrixRow['scenario'];
  /** One per column, in the columns' order. */
  readonly cells: readonly VersionCell[];
  /** The fields whose value is not the same in every column; empty: the versions agree. */
  readonly differs: readonly Field[];
}

export interface VersionsReport {
  readonly gateway: string;
  readonly columns: readonly VersionColumn[];
  /** Every scenario, sorted by id; `differs` says which differ. */
  readonly rows: readonly VersionRow[];
  readonly result: SuiteResult;
}

/** A cell's value for each field, as text: equal text is equal behaviour. */
export function cellFields(cell: VersionCell): Readonly<Record<Field, string>> {
  const c = cell.case;
  if (!c) return { ran: cell.skipped !== undefined ? `skipped: ${cell.skipped}` : 'not run', status: '', statuses: '', body: '', reason: '', websocket: '' };
  const o = c.observed;
  // A sequence is compared by which statuses its requests got, not how many of each: how many
  // requests land in a timing window (a DNS flap, a keep-alive race) varies from run to run.
  const sequence = o.counts !== undefined;
  return {
    // A version that dies of a scenario differs from one that does not, whatever its client saw.
    ran: o.crash ? 'gateway crashed' : 'ran',
    status: sequence ? '' : String(o.status),
    statuses: sequence ? Object.keys(o.counts!).sort().join(', ') : '',
    body: o.body,
    reason: o.reasons.length ? [...o.reasons].sort().join(', ') : 'none',
    websocket: o.websocket ? `${o.websocket.upgraded ? 'upgraded' : 'not upgraded'}${o.websocket.closeCode !== undefined ? ` close ${o.websocket.closeCode}` : ''}` : '',
  };
}

const FIELDS: readonly Field[] = ['ran', 'status', 'statuses', 'body', 'reason', 'websocket'];

/**
 * The fields in which the cells differ. A difference every version's expectation allows is not
 * one: when each cell holds the same measured expectation, and that expectation lists several
 * values for the field (`body: [none, complete]`, a race measured on the gateway itself), two
 * of those values are one behaviour read twice.
 */
export function differingFields(cells: readonly VersionCell[]): Field[] {
  const values = cells.map(cellFields);
  return FIELDS.filter((f) => new Set(values.map((v) => v[f])).size > 1 && !raceAllowed(cells, f));
}

function raceAllowed(cells: readonly VersionCell[], field: Field): boolean {
  const exps = cells.map((c) => (c.case?.verdict?.pass ? c.case.expectation : undefined));
  if (exps.some((e) => e === undefined)) return false;
  const same = exps.every((e) => JSON.stringify(e) === JSON.stringify(exps[0]));
  if (!same) return false;
  const allowed = listed(exps[0]!, field);
  return allowed !== undefined && allowed.length > 1;
}

/** The values an expectation lists for a field, when it lists any. */
function listed(e: Expectation, field: Field): readonly unknown[] | undefined {
  const v = field === 'status' ? e.status : field === 'body' ? e.body : field === 'reason' ? e.reason : undefined;
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

/** A column's name: the gateway, its version, and the image or binary it ran from. */
export function columnLabel(run: Pick<GatewayRun, 'gateway' | 'version' | 'runtime' | 'source'>): string {
  const from = run.source === undefined ? run.runtime : run.runtime === 'container' ? run.source : `${run.runtime}: ${run.source}`;
  return `${run.gateway} ${run.version ?? '(version unknown)'} (${from})`;
}

function shortLabels(runs: readonly GatewayRun[]): string[] {
  const versions = runs.map((r) => r.version ?? '?');
  return runs.map((r, i) => {
    const v = versions[i]!;
    if (versions.filter((x) => x === v).length === 1) return v;
    // Two builds of one version (trixie's Caddy 2.6.2 is built with another Go than bookworm's): say which.
    const from = r.runtime === 'container' ? (r.source ?? 'container') : r.runtime;
    return `${v} ${from.replace(/^.*\//, '')}`;
  });
}

/** The versions report of a run whose runs are one gateway in several versions. */
export function versionsReport(result: SuiteResult): VersionsReport {
  const shorts = shortLabels(result.runs);
  const columns = result.runs.map((r, i): VersionColumn => {
    const states = r.cases.map(caseState);
    const count = (s: CaseState) => states.filter((x) => x === s).length;
    return {
      gateway: r.gateway,
      version: r.version,
      runtime: r.runtime,
      source: r.source,
      label: columnLabel(r),
      short: shorts[i]!,
      passed: count('pass'),
      failed: count('fail'),
      observed: count('observed'),
      skipped: r.skipped.length,
      durationMs: r.durationMs,
    };
  });
  const rows = matrix(result).map((row): VersionRow => ({ scenario: row.scenario, cells: row.cells, differs: differingFields(row.cells) }));
  return { gateway: result.runs[0]?.gateway ?? '', columns, rows, result };
}

/** The rows a report shows: the differing ones, or with `all` every one. */
export function shownRows(report: VersionsReport, all: boolean): readonly VersionRow[] {
  return all ? report.rows : report.rows.filter((r) => r.differs.length > 0);
}

/**
 * Failed verdicts in rows the report does not show (the versions answered alike there): the
 * columns' totals count them, so the report names them.
 */
export function hiddenFailures(report: VersionsReport, all: boolean): Array<{ readonly scenario: string; readonly columns: readonly string[] }> {
  if (all) return [];
  return report.rows
    .filter((r) => r.differs.length === 0)
    .map((r) => ({ scenario: r.scenario.id, columns: r.cells.flatMap((c, i) => (c.case?.verdict?.pass === false ? [report.columns[i]!.short] : [])) }))
    .filter((f) => f.columns.length > 0);
}

/** What a version's verdict says, short: "holds", "FAIL: body expected truncated, observed complete", "not measured on nginx 1.31.0". */
export function verdictText(c: CaseResult): string {
  // Which version lets a bad upstream through is the point of comparing them: said on every cell that does.
  if (c.security) return `${verdictOnly(c)}; security finding: ${c.security.message}`;
  return verdictOnly(c);
}

function verdictOnly(c: CaseResult): string {
  const s = caseState(c);
  if (s === 'pass') return 'holds';
  if (s === 'fail') return `FAIL: ${c.verdict!.mismatches.map((m) => m.message ?? `${m.field} expected ${m.expected}, observed ${m.observed}`).join('; ')}`;
  // "not measured on nginx 1.31.0: what was seen differs from ..." — the part before the colon; the JSON report has it all.
  return (c.unjudged ?? 'observed, no expectation').split(':')[0]!;
}

/** One sentence on what differs: "3 of 4 scenarios differ between nginx 1.22.1 and 1.30.6", or that none does. */
export function headline(report: VersionsReport): string {
  const n = report.rows.filter((r) => r.differs.length > 0).length;
  const versions = report.columns.map((c) => c.short);
  const between = versions.length === 2 ? `${versions[0]} and ${versions[1]}` : `${versions.slice(0, -1).join(', ')} and ${versions.at(-1)}`;
  if (n === 0) return `No scenario differs between ${report.gateway} ${between}: all ${report.rows.length} gave the same status, body and log reasons in every version.`;
  return `${n} of ${report.rows.length} scenario${report.rows.length === 1 ? '' : 's'} differ${n === 1 ? 's' : ''} between ${report.gateway} ${between}.`;
}
