/**
 * Which gateway log lines belong to which request. Each probe sends a unique
 * query (?bgp=<n>), and the gateway names the request in its error lines; lines
 * that only carry the gateway's connection id follow the line that named it.
 */
import type { GatewayAdapter, LogEntry } from '../gateways/gateway.js';

export function probeTag(n: number): string {
  return `bgp=${n}`;
}

/** Map of probe number → its log entries. */
export function attribute(adapter: GatewayAdapter, logText: string): Map<number, LogEntry[]> {
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
    if (m) {
      const n = Number(m[1]);
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
