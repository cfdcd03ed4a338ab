/**
 * The process layer's brain, pure: each behaviour's parameters (names, bounds) and, for each
 * request the supervised child reports, what happens to it. The supervisor (supervisor.ts) does
 * the signals and restarts; this file decides them from the scenario's own request numbers, so
 * which request meets the fault never depends on the machine's speed.
 */
import { InputError } from '../errors.js';
import type { ProcessBehavior, ProcessFaultDef } from '../faults/fault.js';

/** A parameter's bounds (inclusive) and what it means, for errors and `badgateway faults <id>`. */
export interface ParamSpec {
  readonly min: number;
  readonly max: number;
  readonly meaning: string;
}

const AT_REQUEST: ParamSpec = { min: 1, max: 10_000, meaning: "the scenario's request (1 = its first) that triggers the fault, counted over every child" };
const RESTART_MS: ParamSpec = { min: 0, max: 60_000, meaning: 'ms from the child exiting to a new one being started (it then needs its own start-up time to listen)' };
const BODY_BYTES: ParamSpec = { min: 1, max: 1 << 20, meaning: 'bytes of the healthy body the response announces (Content-Length)' };

/** Every behaviour's parameters: a process fault declares defaults for exactly these. */
export const PROCESS_PARAMS: Readonly<Record<ProcessBehavior, Readonly<Record<string, ParamSpec>>>> = {
  'kill-mid-response': {
    atRequest: AT_REQUEST,
    bodyBytes: BODY_BYTES,
    sentBytes: { min: 0, max: 1 << 20, meaning: 'body bytes the child writes after the head before it is killed (0: the head only); less than bodyBytes' },
    restartMs: RESTART_MS,
  },
  'max-requests': {
    requests: { min: 1, max: 10_000, meaning: 'requests each child serves; it answers the last with Connection: close, stops listening and exits' },
    restartMs: RESTART_MS,
  },
  'crash-restart': {
    atRequest: AT_REQUEST,
    downMs: { min: 0, max: 60_000, meaning: 'ms from the crash (SIGKILL, before any byte of the answer) to a new child being started; connections are refused until it listens' },
  },
  freeze: {
    atRequest: AT_REQUEST,
    frozenMs: { min: 1, max: 60_000, meaning: 'ms the child stays stopped (SIGSTOP) before SIGCONT; it answers the request that froze it then' },
  },
  drain: {
    atRequest: AT_REQUEST,
    inFlightMs: { min: 0, max: 60_000, meaning: 'ms the request that starts the drain takes to answer (it is in flight while the child no longer accepts)' },
    restartMs: RESTART_MS,
  },
};

/** A process fault's parameters, defaults and a scenario's overrides merged and checked. */
export function processParams(def: ProcessFaultDef, overrides: Readonly<Record<string, string | number>> = {}): Record<string, number> {
  const spec = PROCESS_PARAMS[def.process];
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries({ ...def.params, ...overrides })) {
    const s = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!s) throw new InputError('BG_INVALID_FAULT', `fault ${def.id} has no parameter "${name}"; its parameters: ${Object.keys(spec).join(', ')}`);
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isInteger(n) || n < s.min || n > s.max) {
      throw new InputError('BG_INVALID_FAULT', `fault ${def.id}: parameter ${name} must be a whole number from ${s.min} to ${s.max}, not ${JSON.stringify(v)} (${s.meaning})`);
    }
    out[name] = n;
  }
  for (const name of Object.keys(spec)) {
    if (out[name] === undefined) throw new InputError('BG_INVALID_FAULT', `fault ${def.id} declares no default for parameter ${name} (${spec[name]!.meaning})`);
  }
  if (def.process === 'kill-mid-response' && out.sentBytes! >= out.bodyBytes!) {
    throw new InputError('BG_INVALID_FAULT', `fault ${def.id}: sentBytes (${out.sentBytes}) must be less than bodyBytes (${out.bodyBytes}), or the response would be complete before the kill`);
  }
  return out;
}

/** What the child does with one request. */
export type Action =
  /** Answer 200 with the healthy body after `delayMs`; `drain`: stop accepting first, answer with Connection: close, exit once every connection is done. */
  | { readonly kind: 'respond'; readonly delayMs: number; readonly drain: boolean }
  /** Write the head (and `sentBytes` of the body), then SIGKILL itself once they are in the kernel; `sentBytes` -1: nothing at all. */
  | { readonly kind: 'kill'; readonly sentBytes: number }
  /** The supervisor stops the child (SIGSTOP) for `ms`, continues it, then it answers. */
  | { readonly kind: 'freeze'; readonly ms: number };

/** The numbers a decision needs: the scenario's request number over every child, and this child's own. */
export interface RequestCount {
  readonly n: number;
  readonly ofChild: number;
}

const RESPOND: Action = { kind: 'respond', delayMs: 0, drain: false };

export function decide(behavior: ProcessBehavior, p: Readonly<Record<string, number>>, c: RequestCount): Action {
  switch (behavior) {
    case 'kill-mid-response':
      return c.n === p.atRequest ? { kind: 'kill', sentBytes: p.sentBytes! } : RESPOND;
    case 'max-requests':
      return c.ofChild >= p.requests! ? { kind: 'respond', delayMs: 0, drain: true } : RESPOND;
    case 'crash-restart':
      return c.n === p.atRequest ? { kind: 'kill', sentBytes: -1 } : RESPOND;
    case 'freeze':
      return c.n === p.atRequest ? { kind: 'freeze', ms: p.frozenMs! } : RESPOND;
    case 'drain':
      return c.n === p.atRequest ? { kind: 'respond', delayMs: p.inFlightMs!, drain: true } : RESPOND;
  }
}

/** How long after a child exits the next one starts. */
export function restartDelayMs(behavior: ProcessBehavior, p: Readonly<Record<string, number>>): number {
  return behavior === 'crash-restart' ? p.downMs! : (p.restartMs ?? 0);
}

/** The healthy body's size: what a process fault's child answers when nothing happens to it. */
export function bodyBytes(p: Readonly<Record<string, number>>): number {
  return p.bodyBytes ?? 64;
}

/**
 * How many times a scenario of `requests` requests restarts the backend, at most: the number of
 * standby processes worth starting before the run (src/process/supervisor.ts says why).
 */
export function restartsWithin(behavior: ProcessBehavior, p: Readonly<Record<string, number>>, requests: number): number {
  switch (behavior) {
    case 'max-requests':
      return Math.floor(requests / p.requests!);
    case 'freeze':
      return 0;
    default:
      return requests >= p.atRequest! ? 1 : 0;
  }
}
