/**
 * Outcomes held against expectations. Pure: a failed expectation is data (a
 * verdict with mismatches), never an exception.
 */
import type { LogEntry } from '../gateways/gateway.js';
import type { Outcome } from '../probe/http-probe.js';
import type { Expectation, StatusExpectation } from '../scenarios/scenario.js';
import { crashHow, type GatewayCrash } from './crash.js';

export type StatusLabel = number | 'no-response' | 'no-status-line';

export interface Observed {
  /** For one request: its status label; for a sequence: the most common one. */
  readonly status: StatusLabel;
  readonly body: 'complete' | 'truncated' | 'none';
  /** Normalized reasons from the log lines attributed to the request(s), without repeats. */
  readonly reasons: readonly string[];
  /** The slowest request. */
  readonly durationMs: number;
  readonly websocket?: { readonly upgraded: boolean; readonly closeCode?: number };
  /** A gRPC call's grpc-status (the first request's), `none` when its reply carried none. */
  readonly grpcStatus?: number | 'none';
  /** For sequences: how many requests got each status label. */
  readonly counts?: Readonly<Record<string, number>>;
  /** The gateway died while this scenario was in flight (its own outcome: "gateway crashed"). */
  readonly crash?: GatewayCrash;
}

export interface Mismatch {
  readonly field: string;
  readonly expected: string;
  readonly observed: string;
  /** A whole sentence that says it better than "field: expected X, observed Y" (see mismatchText). */
  readonly message?: string;
}

/** How a mismatch reads in a report. */
export function mismatchText(m: Mismatch): string {
  return m.message ?? `${m.field}: expected ${m.expected}, observed ${m.observed}`;
}

export const NOT_CRASHED = 'expected the gateway to crash; it did not — an upgrade may have fixed it';

export interface Verdict {
  readonly pass: boolean;
  readonly mismatches: readonly Mismatch[];
}

export function statusLabel(o: Outcome): StatusLabel {
  if (o.kind === 'response') return o.status!;
  if (o.kind === 'no-status-line') return 'no-status-line';
  return 'no-response';
}

export function observe(outcomes: readonly Outcome[], logs: readonly LogEntry[], crash?: GatewayCrash): Observed {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const k = String(statusLabel(o));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const first = outcomes[0]!;
  const status = outcomes.length === 1 ? statusLabel(first) : mostCommon(counts);
  const reasons = [...new Set(logs.map((l) => l.reason).filter((r) => r !== undefined))];
  const bodies = outcomes.map((o) => o.body);
  const body = bodies.includes('truncated') ? 'truncated' : bodies.includes('complete') ? 'complete' : 'none';
  return {
    status,
    body,
    reasons,
    durationMs: Math.max(...outcomes.map((o) => o.durationMs)),
    websocket: first.websocket ? { upgraded: first.websocket.upgraded, closeCode: first.websocket.closeCode } : undefined,
    ...(first.grpc ? { grpcStatus: first.grpc.status ?? 'none' } : {}),
    counts: outcomes.length > 1 ? counts : undefined,
    ...(crash ? { crash } : {}),
  };
}

function mostCommon(counts: Record<string, number>): StatusLabel {
  const [k] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0]!;
  return /^\d+$/.test(k) ? Number(k) : (k as StatusLabel);
}

const fmt = (v: unknown): string => (Array.isArray(v) ? v.map(String).join(' or ') : v === undefined ? '-' : String(v));

export function compareCount(actual: number, spec: string): boolean {
  const m = /^(>=|<=|>|<|=)?(\d+)$/.exec(spec)!;
  const n = Number(m[2]);
  switch (m[1] ?? '=') {
    case '>=': return actual >= n;
    case '<=': return actual <= n;
    case '>': return actual > n;
    case '<': return actual < n;
    default: return actual === n;
  }
}

export function evaluate(obs: Observed, exp: Expectation): Verdict {
  const mismatches: Mismatch[] = [];
  const add = (field: string, expected: unknown, observed: unknown) => mismatches.push({ field, expected: fmt(expected), observed: fmt(observed) });
  // A crash is the whole story of the case: what its client saw of a dying gateway is a race.
  if (obs.crash) {
    if (exp.gateway === 'crashes') return { pass: true, mismatches: [] };
    const how = crashHow(obs.crash);
    return { pass: false, mismatches: [{ field: 'gateway', expected: 'running', observed: `crashed (${how})`, message: `the gateway crashed (${how}) during this scenario` }] };
  }
  if (exp.gateway === 'crashes') return { pass: false, mismatches: [{ field: 'gateway', expected: 'crashes', observed: 'running', message: NOT_CRASHED }] };
  if (exp.status !== undefined && exp.counts === undefined) {
    const allowed: readonly StatusExpectation[] = Array.isArray(exp.status) ? exp.status : [exp.status as StatusExpectation];
    if (!allowed.includes(obs.status)) add('status', allowed, obs.status);
  }
  if (exp.body !== undefined && !(Array.isArray(exp.body) ? exp.body : [exp.body]).includes(obs.body)) add('body', exp.body, obs.body);
  if (exp.reason !== undefined) {
    const wanted: readonly string[] = Array.isArray(exp.reason) ? exp.reason : [exp.reason as string];
    const ok = wanted.includes('none') ? obs.reasons.length === 0 : wanted.some((r) => obs.reasons.includes(r));
    if (!ok) add('reason', wanted, obs.reasons.length ? obs.reasons : 'none');
  }
  if (exp.maxMs !== undefined && obs.durationMs > exp.maxMs) add('time', `<= ${exp.maxMs} ms`, `${obs.durationMs} ms`);
  if (exp.minMs !== undefined && obs.durationMs < exp.minMs) add('time', `>= ${exp.minMs} ms`, `${obs.durationMs} ms`);
  if (exp.websocket) {
    if (exp.websocket.upgraded !== undefined && exp.websocket.upgraded !== obs.websocket?.upgraded) add('websocket.upgraded', exp.websocket.upgraded, obs.websocket?.upgraded);
    if (exp.websocket.closeCode !== undefined && exp.websocket.closeCode !== obs.websocket?.closeCode) add('websocket.closeCode', exp.websocket.closeCode, obs.websocket?.closeCode);
  }
  if (exp.grpcStatus !== undefined && exp.grpcStatus !== (obs.grpcStatus ?? 'none')) add('grpc-status', exp.grpcStatus, obs.grpcStatus ?? 'none');
  if (exp.counts) {
    for (const [k, spec] of Object.entries(exp.counts)) {
      const n = obs.counts?.[k] ?? 0;
      if (!compareCount(n, spec)) add(`count of ${k}`, spec, n);
    }
  }
  return { pass: mismatches.length === 0, mismatches };
}
