/**
 * The ids an external run's probes carry, so the gateway's log lines (and a managed gateway's
 * access logs, read hours later) are attributed to the run and the probe that caused them.
 * Both ids encode the run and the probe number, so attribution needs no table: a line from
 * another run on the same gateway (a shared error log) never lands on this run's probes.
 */
import { randomBytes } from 'node:crypto';

/** 12 hex digits: unique enough among the runs that share one gateway's log. */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

/** `X-Request-Id: bg-<run>-<n>`: what nginx's $request_id-style log fields and most proxies forward. */
export function requestId(runId: string, n: number): string {
  return `bg-${runId}-${n}`;
}

/**
 * The Root of an `X-Amzn-Trace-Id` (1-<8 hex seconds>-<24 hex>), which ALB keeps when a request
 * already has one and writes to its access log's trace_id: the 24 hex digits are the run id and
 * the probe number.
 */
export function traceRoot(runId: string, n: number, nowMs = Date.now()): string {
  const time = Math.floor(nowMs / 1000).toString(16).padStart(8, '0').slice(-8);
  return `1-${time}-${runId}${n.toString(16).padStart(12, '0')}`;
}

/** The probe number an id of this run names (either form), or undefined for another run's id or none. */
export function probeFromId(id: string, runId: string | undefined): number | undefined {
  const bg = /\bbg-([0-9a-f]{12})-(\d+)\b/.exec(id);
  if (bg) return runId === undefined || bg[1] === runId ? Number(bg[2]) : undefined;
  const root = /\b1-[0-9a-f]{8}-([0-9a-f]{12})([0-9a-f]{12})\b/.exec(id);
  if (root) return runId === undefined || root[1] === runId ? parseInt(root[2]!, 16) : undefined;
  return undefined;
}

/** The query tag of a run's probes beside ?bgp=<n>: lines of other runs in the same log are told apart by it. */
export function runTag(runId: string): string {
  return `bgr=${runId}`;
}
