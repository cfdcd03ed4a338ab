/**
 * `import 'badgateway/vitest'`: matchers for what a client saw through a real gateway, and helpers
 * that start a gateway for a file, a describe block or one test, and stop it afterwards.
 *
 * The matchers take a CaseResult (from `check(scenarioId)`, or a case of `runSuite`'s result).
 * When one fails it prints the wire transcript of the request (status line, headers, body preview,
 * how the response ended), the gateway's log lines for that request and the scenario file: the
 * evidence a person needs without running anything again.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { gateways, InputError, startGateway, type BodyState, type CaseResult, type Outcome, type StartGatewayOptions, type StartedGateway } from './index.js';
import { mismatchText } from './harness/evaluate.js';

/** What `toBeGatewayError` takes: one status (400–599), any 5xx, or no response at all. */
export type GatewayErrorExpectation = number | '5xx' | 'no-response';

export interface GatewayMatchers<R = unknown> {
  /**
   * The client got this error status (400–599), any 5xx (`'5xx'`, the default), or no response
   * at all (`'no-response'`: the connection closed, reset or timed out before a status line).
   * For a sequence scenario: the most common status, as the verdict reads it.
   */
  toBeGatewayError(expected?: GatewayErrorExpectation): R;
  /** The response body was `complete`, `truncated` (its framing promised more), or `none` (no body, or no response). */
  toHaveBody(expected: BodyState): R;
  /** A gateway log line attributed to the request(s) has this normalized reason; `'none'`: no line has a reason. */
  toHaveGatewayReason(reason: string): R;
  /** The scenario's measured expectation for this gateway and version holds. Fails, even under `.not`, when there is none. */
  toPassExpectation(): R;
}

declare module 'vitest' {
  interface Assertion<T = any> extends GatewayMatchers<void> {}
  interface AsymmetricMatchersContaining extends GatewayMatchers {}
}

// ---------------------------------------------------------------------------------------------
// Matchers

interface MatcherContext {
  readonly isNot: boolean;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

const BODY_STATES: readonly BodyState[] = ['complete', 'truncated', 'none'];

expect.extend({
  toBeGatewayError(this: MatcherContext, received: unknown, expected: GatewayErrorExpectation = '5xx'): MatcherResult {
    if (!(expected === '5xx' || expected === 'no-response' || (Number.isInteger(expected) && (expected as number) >= 400 && (expected as number) <= 599))) {
      throw new InputError('BG_BAD_OPTION', `toBeGatewayError takes an error status (400–599), '5xx' or 'no-response', got ${JSON.stringify(expected)}. To check a status that is not an error, use expect(result.observed.status).toBe(${typeof expected === 'number' ? expected : 200}).`);
    }
    const c = asCase(received, 'toBeGatewayError');
    if (typeof c === 'string') return unusable(this, c);
    const got = c.observed.status;
    const pass = expected === '5xx' ? typeof got === 'number' && got >= 500 && got <= 599 : got === expected;
    const want = expected === '5xx' ? 'a 5xx status' : expected === 'no-response' ? 'no response' : `status ${expected}`;
    return { pass, message: () => `${subject(c)}: expected the client ${this.isNot ? 'not ' : ''}to get ${want}, but it got ${describeStatus(c)}\n\n${evidence(c)}` };
  },

  toHaveBody(this: MatcherContext, received: unknown, expected: BodyState): MatcherResult {
    if (!BODY_STATES.includes(expected)) throw new InputError('BG_BAD_OPTION', `toHaveBody takes one of ${BODY_STATES.join(', ')}, got ${JSON.stringify(expected)}.`);
    const c = asCase(received, 'toHaveBody');
    if (typeof c === 'string') return unusable(this, c);
    return { pass: c.observed.body === expected, message: () => `${subject(c)}: expected the body ${this.isNot ? 'not ' : ''}to be ${expected}, but it was ${c.observed.body}\n\n${evidence(c)}` };
  },

  toHaveGatewayReason(this: MatcherContext, received: unknown, reason: string): MatcherResult {
    const known = knownReasons();
    if (typeof reason !== 'string' || (reason !== 'none' && !known.includes(reason))) {
      throw new InputError('BG_BAD_OPTION', `toHaveGatewayReason: no gateway adapter reports the reason ${JSON.stringify(reason)}. The reasons are: ${known.join(', ')}; or 'none' for no reason at all.`);
    }
    const c = asCase(received, 'toHaveGatewayReason');
    if (typeof c === 'string') return unusable(this, c);
    const reasons = c.observed.reasons;
    const pass = reason === 'none' ? reasons.length === 0 : reasons.includes(reason);
    const saw = reasons.length ? `the log said ${reasons.join(', ')}` : 'no log line for it has a reason';
    const want = reason === 'none' ? 'no reason' : `the reason ${reason}`;
    return { pass, message: () => `${subject(c)}: expected the gateway's log ${this.isNot ? 'not ' : ''}to give ${want}, but ${saw}\n\n${evidence(c)}` };
  },

  toPassExpectation(this: MatcherContext, received: unknown): MatcherResult {
    const c = asCase(received, 'toPassExpectation');
    if (typeof c === 'string') return unusable(this, c);
    if (!c.verdict) {
      // Neither a pass nor a failure: under .not too, this must fail rather than pass silently.
      const why = c.unjudged ?? (c.baseline ? 'it ran with your own config, which is observed, not judged (the expectation is for the default config)' : 'it has no expectation');
      return { pass: this.isNot, message: () => `${subject(c)}: cannot judge the expectation: ${why}\n\n${evidence(c)}` };
    }
    const exp = c.expectation ? `expected ${expectationText(c)}` : '';
    const mismatches = c.verdict.mismatches.map((m) => `  ${mismatchText(m)}`);
    return {
      pass: c.verdict.pass,
      message: () =>
        this.isNot
          ? `${subject(c)}: expected the scenario's expectation to fail, but it holds (${exp})\n\n${evidence(c)}`
          : `${subject(c)}: the scenario's expectation does not hold:\n${mismatches.join('\n')}\n\n${evidence(c)}`,
    };
  },
});

function asCase(received: unknown, matcher: string): CaseResult | string {
  if (received !== null && typeof received === 'object') {
    if (typeof (received as { then?: unknown }).then === 'function') return `${matcher} received a Promise: await check(scenarioId) first (expect(await gw.check('empty-reply')).${matcher}(...)).`;
    const r = received as Partial<CaseResult>;
    if (r.scenario && r.observed && Array.isArray(r.outcomes) && Array.isArray(r.logs)) return received as CaseResult;
  }
  return `${matcher} takes a CaseResult (what check(scenarioId) resolves to, or a case of runSuite's result), got ${typeof received === 'object' ? (received === null ? 'null' : `an object with ${Object.keys(received).slice(0, 5).join(', ') || 'no keys'}`) : typeof received}.`;
}

/** Not something a matcher can judge: fail whether or not `.not` was used. */
function unusable(ctx: MatcherContext, why: string): MatcherResult {
  return { pass: ctx.isNot, message: () => why };
}

function knownReasons(): string[] {
  return [...new Set(gateways.flatMap((g) => g.reasons.map((r) => r.reason)))].sort();
}

function subject(c: CaseResult): string {
  return `${c.scenario.id} through ${c.gateway}${c.version ? ` ${c.version}` : ''}`;
}

function describeStatus(c: CaseResult): string {
  const s = c.observed.status;
  const o = c.outcomes[0];
  const label = typeof s === 'number' ? `status ${s}` : s === 'no-status-line' ? 'bytes without a status line' : `no response (${o ? endText(o) : 'no request'})`;
  return c.observed.counts ? `${label} (most common of ${c.outcomes.length} requests: ${Object.entries(c.observed.counts).map(([k, n]) => `${k} ×${n}`).join(', ')})` : label;
}

function expectationText(c: CaseResult): string {
  const e = c.expectation!;
  const parts: string[] = [];
  const list = (v: unknown) => (Array.isArray(v) ? v.join(' or ') : String(v));
  if (e.status !== undefined) parts.push(`status ${list(e.status)}`);
  if (e.body !== undefined) parts.push(`body ${list(e.body)}`);
  if (e.reason !== undefined) parts.push(`reason ${list(e.reason)}`);
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------------
// The transcript a failure prints. Every piece is bounded: a hostile response cannot flood it.

const MAX_REQUESTS_SHOWN = 3;
const MAX_HEAD_LINES = 30;
const MAX_LINE_CHARS = 300;
const MAX_LOG_LINES = 10;

function evidence(c: CaseResult): string {
  const out: string[] = [];
  const n = c.outcomes.length;
  c.outcomes.slice(0, MAX_REQUESTS_SHOWN).forEach((o, i) => {
    const req = c.scenario.request;
    out.push(`${n > 1 ? `request ${i + 1} of ${n}` : 'request'}: ${req.method} ${req.path} through ${c.gateway} (${c.runtime}), ${o.durationMs} ms`);
    out.push(...wire(o).map((l) => `  ${l}`));
  });
  if (n > MAX_REQUESTS_SHOWN) out.push(`(${n - MAX_REQUESTS_SHOWN} more requests not shown)`);
  if (c.logs.length === 0) out.push(`gateway log: no gateway log line names this request`);
  else {
    out.push(`gateway log (${c.logs.length} line${c.logs.length === 1 ? '' : 's'} for this request):`);
    for (const l of c.logs.slice(0, MAX_LOG_LINES)) out.push(`  ${clip(l.raw)}${l.reason ? `   → ${l.reason}` : ''}`);
    if (c.logs.length > MAX_LOG_LINES) out.push(`  (${c.logs.length - MAX_LOG_LINES} more lines)`);
  }
  out.push(`scenario: ${c.scenario.file}`);
  return out.join('\n');
}

/** What came back, as the client read it: `<` lines are bytes from the gateway. */
function wire(o: Outcome): string[] {
  const lines: string[] = [];
  if (o.head !== undefined) {
    const head = o.head.split('\r\n');
    for (const l of head.slice(0, MAX_HEAD_LINES)) lines.push(`< ${clip(escapeText(l))}`);
    if (head.length > MAX_HEAD_LINES) lines.push(`< (${head.length - MAX_HEAD_LINES} more header lines)`);
  }
  if (o.kind === 'partial-head') lines.push('(the head ended before its blank line)');
  else if (o.kind === 'response') lines.push('<');
  if (o.kind === 'response' || o.kind === 'no-status-line') {
    const of = o.expectedBodyBytes !== undefined ? `${o.bodyBytes} of ${o.expectedBodyBytes}` : `${o.bodyBytes}`;
    const what = o.kind === 'no-status-line' ? `no status line, ${o.bytes} bytes` : `body ${o.body}, ${of} bytes`;
    lines.push(o.bodyPreview ? `< ${o.bodyPreview}` : '< (no body bytes)');
    lines.push(`(${what})`);
  } else if (o.kind !== 'partial-head') {
    lines.push(`(no response: ${o.bytes === 0 ? 'not a byte came back' : `${o.bytes} bytes: ${o.preview}`})`);
  }
  lines.push(`ended: ${endText(o)}`);
  return lines;
}

function endText(o: Outcome): string {
  switch (o.end) {
    case 'complete': return 'a complete response (the probe closed)';
    case 'fin': return 'the gateway closed the connection (FIN)';
    case 'reset': return 'the gateway reset the connection (RST)';
    case 'timeout': return `no end before the probe's timeout (${o.durationMs} ms)`;
    case 'error': return `a socket error${o.errorCode ? ` (${o.errorCode})` : ''}`;
  }
}

function escapeText(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\xff\\]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function clip(s: string): string {
  return s.length > MAX_LINE_CHARS ? `${s.slice(0, MAX_LINE_CHARS)}… (+${s.length - MAX_LINE_CHARS} chars)` : s;
}

// ---------------------------------------------------------------------------------------------
// Lifecycles. Every gateway started here is closed by its afterAll or finally, and, should the
// test process be told to stop (Ctrl-C, SIGTERM from the runner), by a signal handler: the
// process runtime runs a gateway in its own process group, which would outlive a worker that
// simply died.

export interface UseGatewayOptions extends Omit<StartGatewayOptions, 'gateway' | 'signal'> {
  /** How long beforeAll may take to start the gateway (a container image may need pulling). Default 120 s. */
  readonly startTimeoutMs?: number;
  /** How long afterAll may take to stop it. Default 30 s. */
  readonly stopTimeoutMs?: number;
}

export interface GatewayHandle {
  /** The gateway id, e.g. `nginx`. */
  readonly gateway: string;
  /** The running gateway (url, version, scenarios, skipped); throws outside the tests of the block that called useGateway. */
  readonly started: StartedGateway;
  /** `started.check(scenarioId)`: the scenario's request(s) through the gateway, judged. */
  check(scenarioId: string): Promise<CaseResult>;
}

const live = new Set<StartedGateway>();
/** Starts under way, each with what aborts it and what settles once it has unwound. */
const starting = new Map<AbortController, Promise<unknown>>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let handlersOn = false;

/** Aborts every start under way and closes every gateway; settles when all of them have unwound. */
async function closeEverything(why: string): Promise<void> {
  const unwinding = [...starting].map(([ac, settled]) => {
    ac.abort(new Error(why));
    return settled;
  });
  await Promise.allSettled([...unwinding, ...[...live].map((g) => g.close())]);
  live.clear();
  setHandlers(false);
}

function onSignal(sig: NodeJS.Signals): void {
  void closeEverything(`interrupted by ${sig}`).then(() => {
    // Ours were the only handlers: let the signal do what it would have done without us.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  });
}

// A vitest fork whose runner died (SIGTERM to the runner alone leaves its workers running) learns it
// only from its IPC channel closing; no afterAll will come.
function onDisconnect(): void {
  // The IPC channel was what kept this worker's event loop alive (the gateway's process is not
  // waited on by the loop): without a handle of our own, the worker exits half-way through
  // stopping the gateway, leaving its files (or the gateway) behind.
  const keepAlive = setInterval(() => {}, 1000);
  void closeEverything('the test runner went away').finally(() => clearInterval(keepAlive));
}

// Whatever ends this process while a gateway runs (vitest's worker calls process.exit(1) when its
// channel to a runner that went away fails, half-way through an orderly close), the gateway does
// not outlive it: the exit handler kills it and removes its files synchronously.
function onExit(): void {
  for (const g of live) {
    try {
      g.abandon();
    } catch {
      /* best effort: the process is exiting */
    }
  }
}

function setHandlers(on: boolean): void {
  if (on === handlersOn) return;
  handlersOn = on;
  if (on) process.on('exit', onExit);
  else process.off('exit', onExit);
  for (const s of SIGNALS) {
    if (on) process.on(s, onSignal);
    else process.off(s, onSignal);
  }
  if (on) process.on('disconnect', onDisconnect);
  else process.off('disconnect', onDisconnect);
}

const syncHandlers = () => setHandlers(live.size > 0 || starting.size > 0);

function start(opts: StartGatewayOptions, ac: AbortController): Promise<StartedGateway> {
  const p = (async () => {
    const gw = await startGateway({ ...opts, signal: ac.signal });
    if (ac.signal.aborted) {
      // Started after whoever wanted it gave up (a hook timeout, a signal): stop it now.
      await gw.close();
      throw ac.signal.reason;
    }
    live.add(gw);
    return gw;
  })();
  const settled = p.then(
    () => undefined,
    () => undefined,
  );
  starting.set(ac, settled);
  syncHandlers();
  void settled.then(() => {
    starting.delete(ac);
    syncHandlers();
  });
  return p;
}

async function stop(gw: StartedGateway): Promise<void> {
  try {
    await gw.close();
  } finally {
    live.delete(gw);
    syncHandlers();
  }
}

/**
 * Starts a gateway in front of its chaos upstream before the tests of the enclosing file or
 * `describe` block (a `beforeAll`), and stops it after them (an `afterAll`, which vitest runs even
 * when a test or the start failed). Call it at the top of a file or inside `describe`, not inside a test.
 *
 *     const nginx = useGateway('nginx', { runtime: 'process' });
 *     it('answers 502 to an empty reply', async () => {
 *       expect(await nginx.check('empty-reply')).toBeGatewayError(502);
 *     });
 */
export function useGateway(gateway: string, opts: UseGatewayOptions = {}): GatewayHandle {
  const { startTimeoutMs = 120_000, stopTimeoutMs = 30_000, ...startOpts } = opts;
  let current: StartedGateway | undefined;
  let ac: AbortController | undefined;
  let pending: Promise<StartedGateway> | undefined;
  beforeAll(async () => {
    ac = new AbortController();
    pending = start({ ...startOpts, gateway }, ac);
    current = await pending;
  }, startTimeoutMs);
  afterAll(async () => {
    // If beforeAll timed out, the start is still under way: abort it and wait for it to unwind.
    ac?.abort(new Error(`useGateway('${gateway}'): the tests ended before the gateway started`));
    const gw = current ?? (await pending?.catch(() => undefined));
    current = undefined;
    if (gw) await stop(gw);
  }, stopTimeoutMs);
  const started = (): StartedGateway => {
    if (current) return current;
    throw new InputError('BG_BAD_OPTION', `useGateway('${gateway}'): the gateway runs only during the tests of the file or describe block that called useGateway (it starts in beforeAll and stops in afterAll); use it inside it()/test(), not at collection time.`);
  };
  return {
    gateway,
    get started() {
      return started();
    },
    check: (scenarioId) => started().check(scenarioId),
  };
}

/**
 * Starts a gateway, runs `fn` with it, and stops it whether `fn` returns or throws: for one test.
 * On Node 24 and later, `await using gw = await startGateway(opts)` does the same.
 */
export async function withGateway<T>(opts: Omit<StartGatewayOptions, 'signal'>, fn: (gw: StartedGateway) => T | Promise<T>): Promise<T> {
  const gw = await start(opts, new AbortController());
  try {
    return await fn(gw);
  } finally {
    await stop(gw);
  }
}
