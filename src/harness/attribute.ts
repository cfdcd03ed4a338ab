/**
 * Which gateway log lines belong to which request. Each probe sends a unique
 * query (?bgp=<n>), and the gateway names the request in its error lines; lines
 * that only carry the gateway's connection id follow the line that named it.
 */
import type { GatewayAdapter, LogEntry } from '../gateways/gateway.js';
import { probeFromId } from './request-id.js';

export function probeTag(n: number): string {
  return `bgp=${n}`;
}

/**
 * Map of probe number → its log entries. With `runId` (an external run, whose gateway's log
 * may hold other runs' lines too) a line counts only when it names this run: by its request id,
 * or by the run tag (bgr=) beside its ?bgp= tag.
 */
export function attribute(adapter: GatewayAdapter, logText: string, runId?: string): Map<number, LogEntry[]> {
  const byProbe = new Map<number, LogEntry[]>();
  const connToProbe = new Map<string, number>();
  const pending: LogEntry[] = [];
  const add = (n: number, e: LogEntry) => {
    let list = byProbe.get(n);
    if (!list) byProbe.set(n, (list = []));
    list.push(e);
  };
  for (const line of logText.split('\n')) {
    if (line.trim() === '') continue;
    const e = adapter.parseLogLine(line);
    if (!e) continue;
    const m = e.target ? /[?&]bgp=(\d+)/.exec(e.target) : null;
    const byId = e.requestId !== undefined ? probeFromId(e.requestId, runId) : undefined;
    const otherRun = runId !== undefined && m !== null && !new RegExp(`[?&]bgr=${runId}(?:&|$|\\s)`).test(e.target!);
    // Another run's line names its own request: it never follows this run's connection ids.
    if (byId === undefined && otherRun) continue;
    if (byId !== undefined || m) {
      const n = byId ?? Number(m![1]);
      add(n, e);
      if (e.connection) connToProbe.set(e.connection, n);
    } else if (e.connection) pending.push(e);
  }
  for (const e of pending) {
    const n = connToProbe.get(e.connection!);
    if (n !== undefined) add(n, e);
  }
  return byProbe;
}
