/**
 * A gateway that died during a scenario: what the case records and how it reads. Pure; the
 * harness side that notices the exit, restarts the gateway and finds the culprit is
 * crash-watch.ts.
 */

/** The crash a case is blamed for: how the gateway ended, and what it last logged. */
export interface GatewayCrash {
  /** The signal that killed it (SIGSEGV, SIGABRT, SIGKILL), when one did. */
  readonly signal: string | null;
  /** Its exit code: a process's own exit, or a container's (128 + the signal's number when a signal killed it). */
  readonly code: number | null;
  /** The last lines of its logs and stderr as it died (HAProxy's FATAL line and call trace, nginx's alerts). */
  readonly lastLogLines: readonly string[];
  /**
   * Set when the culprit could not be told apart: the other scenarios in flight when it died,
   * none of which crashed it again when re-run alone (the crash needs them together, or is rare).
   */
  readonly inFlightWith?: readonly string[];
}

/** "signal SIGSEGV", "exit code 1", "signal SIGSEGV, exit code 139" (a container's). */
export function crashHow(c: Pick<GatewayCrash, 'signal' | 'code'>): string {
  const parts: string[] = [];
  if (c.signal) parts.push(`signal ${c.signal}`);
  if (c.code !== null && c.code !== undefined) parts.push(`exit code ${c.code}`);
  return parts.join(', ') || 'no exit status';
}

/** The outcome's name and how: "gateway crashed (signal SIGSEGV)", and who else was in flight when that is unknown. */
export function crashText(c: GatewayCrash): string {
  const withOthers = c.inFlightWith?.length ? `; in flight with ${c.inFlightWith.join(', ')}, and none crashed it alone` : '';
  return `gateway crashed (${crashHow(c)}${withOthers})`;
}

/** The line of its last log lines that says why, when there is one (HAProxy's FATAL, an nginx alert, a Go panic). */
export function crashCause(c: GatewayCrash): string | undefined {
  return c.lastLogLines.find((l) => /\b(FATAL|panic|fatal error|alert|emerg|Segmentation fault|Assertion)\b/i.test(l))?.trim();
}
