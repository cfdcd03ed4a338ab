/**
 * Reading a gateway's log line back: which adapter wrote it, its normalized reason, and what
 * that means. Pure; `badgateway explain` and the public `explain()` both use it.
 */
import type { GatewayAdapter, ReasonInfo } from './gateway.js';
import { GATEWAYS } from './index.js';

export interface Explanation {
  readonly gateway: string;
  readonly level: string;
  readonly info: ReasonInfo;
}

/** Which gateway wrote this line and what it means; undefined when no adapter knows it. */
export function explainLine(line: string, gateways: readonly GatewayAdapter[] = GATEWAYS): Explanation | undefined {
  for (const g of gateways) {
    const e = g.parseLogLine(line.trim()) ?? g.parseLogLine(`2000/01/01 00:00:00 [error] 1#1: ${line.trim()}`);
    if (e?.reason) {
      const info = g.reasons.find((r) => r.reason === e.reason);
      if (info) return { gateway: g.id, level: e.level, info };
    }
  }
  return undefined;
}

/**
 * An example for the "not recognised" message: a line the gateway's own parser reads (read-timeout's if it
 * has one), or, for gateways whose examples are only the message part (Caddy's JSON, HAProxy's log format),
 * that message part.
 */
function exampleOf(g: GatewayAdapter): { readonly text: string; readonly whole: boolean } | undefined {
  const withExample = g.reasons.filter((r) => r.example !== undefined);
  const ordered = [...withExample.filter((r) => r.reason === 'read-timeout'), ...withExample.filter((r) => r.reason !== 'read-timeout')];
  const whole = ordered.find((r) => explainLine(r.example!, [g])?.gateway === g.id);
  if (whole) return { text: whole.example!, whole: true };
  return ordered[0] && { text: ordered[0].example!, whole: false };
}

/** The one-paragraph error for a line no adapter (or not the named one) recognises. */
export function unknownLineMessage(gateway?: GatewayAdapter): string {
  const gateways = gateway ? [gateway] : GATEWAYS;
  const reasons = [...new Set(gateways.flatMap((g) => g.reasons.map((r) => r.reason)))].join(', ');
  if (!gateway) {
    const ex = exampleOf(GATEWAYS[0]!);
    return (
      `no gateway adapter recognises this line. Paste the whole error-log line` +
      (ex ? ` (e.g. ${GATEWAYS[0]!.id}'s "${ex.text}")` : '') +
      `, or add --gateway <${GATEWAYS.map((g) => g.id).join('|')}> to read it as that gateway's; known reasons: ${reasons}.`
    );
  }
  const ex = exampleOf(gateway);
  const hint = !ex ? '' : ex.whole ? ` (e.g. "${ex.text}")` : ` (its message reads like "${ex.text}")`;
  return `the ${gateway.id} adapter does not recognise this line. Paste the whole error-log line as ${gateway.id} wrote it${hint}; ${gateway.id}'s reasons: ${reasons}.`;
}
