/**
 * Runs a compiled script of steps on one connection. Intentional drops (close,
 * reset) end the script; a peer that goes away ends it too. Neither is an error.
 * Anything else a step throws is a bug in badgateway, and it is thrown on as a
 * StepFailure rather than passed off as a peer that left.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { headerValue, wantsKeepAlive } from '../wire/request-head.js';
import { buildHead } from '../wire/response.js';
import type { Conn } from './conn.js';
import { runFcgiStep } from './fcgi-exec.js';
import { runH2Step } from './h2-exec.js';
import type { Step } from './steps.js';
import { sliceBytes, type Bytes } from './bytes.js';
import { drain, writeBytes, type ScriptEnd, type StepResult } from './write.js';

export { drain, writeBytes, type ScriptEnd, type StepResult } from './write.js';


export interface StepEvent {
  readonly index: number;
  readonly op: Step['op'];
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Error codes that mean the peer went away, or the connection was ended under a step (by the
 * peer, or by the upstream stopping): what a fault provokes every time, data and not a bug.
 */
const PEER_GONE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
  'ABORT_ERR',
  // Our own: the peer closed mid-read, or sent a body we cannot parse.
  'BG_PEER_CLOSED',
  'BG_BAD_REQUEST',
]);

/** True for an error that a peer (or the upstream stopping) causes: a reset, a pipe closed under a write, an aborted wait. */
export function isPeerError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && PEER_GONE_CODES.has(e.code)) return true;
  // An aborted timer or stream: the connection's signal fires when its socket closes.
  return e.name === 'AbortError' || e.message === 'aborted';
}

/** A step threw something other than the peer leaving: a bug, with the step that hit it. */
export class StepFailure extends Error {
  constructor(
    readonly index: number,
    readonly op: string,
    cause: unknown,
  ) {
    super(`step ${index + 1} (${op}) threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StepFailure';
  }
}

const reported = new Set<string>();

/**
 * Writes a bug to stderr with its stack, once per distinct stack: the upstream is long-running,
 * and one broken fault under load must not bury everything else in copies of the same trace.
 */
export function reportBugOnce(err: unknown, context: string): void {
  const cause = err instanceof StepFailure ? err.cause : err;
  const stack = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  // Keyed by where it was thrown, not by its message, which may carry a value that differs every time.
  const key = `${context}\n${stack.split('\n').slice(1).join('\n')}`;
  // Past 100 distinct bugs, stderr stays quiet; each still reaches the event stream.
  if (reported.has(key) || reported.size >= 100) return;
  reported.add(key);
  const what = err instanceof StepFailure ? `${context}, ${err.message}` : context;
  process.stderr.write(`badgateway: bug in ${what}. The connection was reset; the upstream keeps serving. Please report it:\n${stack}\n`);
}

/**
 * Runs the steps; returns synchronously while every step is synchronous (a
 * healthy response costs no promise), and a promise from the first step that waits.
 */
export function runScript(conn: Conn, steps: readonly Step[], onStep?: (e: StepEvent) => void): ScriptEnd | Promise<ScriptEnd> {
  let i = 0;
  try {
    for (; i < steps.length; i++) {
      const step = steps[i]!;
      if (conn.closed) return 'closed';
      onStep?.({ index: i, op: step.op });
      const end = runStep(conn, step);
      if (end instanceof Promise) return continueAsync(conn, steps, i, end, onStep);
      if (end === 'closed') return 'closed';
    }
  } catch (err) {
    return stepThrew(conn, steps, i, err);
  }
  return conn.closed ? 'closed' : 'open';
}

async function continueAsync(conn: Conn, steps: readonly Step[], at: number, pending: Promise<StepResult>, onStep?: (e: StepEvent) => void): Promise<ScriptEnd> {
  let i = at;
  try {
    if ((await pending) === 'closed') return 'closed';
    for (i = at + 1; i < steps.length; i++) {
      const step = steps[i]!;
      if (conn.closed) return 'closed';
      onStep?.({ index: i, op: step.op });
      if ((await runStep(conn, step)) === 'closed') return 'closed';
    }
  } catch (err) {
    return stepThrew(conn, steps, i, err);
  }
  return conn.closed ? 'closed' : 'open';
}

/** A peer that left, or the upstream stopping, ends the script: the error is the data. Anything else is a bug, thrown on. */
function stepThrew(conn: Conn, steps: readonly Step[], index: number, err: unknown): 'closed' {
  if (!isPeerError(err)) throw new StepFailure(index, steps[index]?.op ?? 'unknown', err);
  conn.destroy();
  return 'closed';
}


function runStep(conn: Conn, step: Step): StepResult | Promise<StepResult> {
  switch (step.op) {
    case 'read-head':
      return conn.readHead().then((head) => {
        if (head !== undefined) return;
        conn.destroy();
        return 'closed' as const;
      });
    case 'read-body':
      return conn.readBody().then(() => undefined);
    case 'read-bytes':
      return conn.readBytes(step.count);
    case 'write':
      return writeBytes(conn, step.bytes);
    case 'delay':
      return sleep(step.ms, undefined, { signal: conn.waitSignal(step.ignoresFin) });
    case 'dribble':
      return dribble(conn, step.bytes, step.length, step.chunkBytes, step.intervalMs, conn.waitSignal(step.ignoresFin));
    case 'close':
      conn.close();
      return 'closed';
    case 'reset':
      return conn.reset().then(
        () => 'closed' as const,
        (err: NodeJS.ErrnoException) => {
          // A unix socket has no RST (Node refuses with ERR_INVALID_HANDLE_TYPE): closing at once is the nearest a backend on one can do.
          if (err.code !== 'ERR_INVALID_HANDLE_TYPE') throw err;
          conn.destroy();
          return 'closed' as const;
        },
      );
    case 'half-close':
      conn.halfClose();
      return;
    case 'hang':
      return conn.untilGone().then(() => {
        conn.destroy();
        return 'closed' as const;
      });
    case 'respond': {
      const req = conn.current;
      const keep = req === undefined || wantsKeepAlive(req);
      if (!keep) {
        const written = writeBytes(conn, step.close);
        if (written === undefined) {
          conn.close();
          return 'closed';
        }
        return written.then(() => {
          conn.close();
          return 'closed' as const;
        });
      }
      return writeBytes(conn, req !== undefined && req.version === 'HTTP/1.0' ? step.http10KeepAlive : step.keepAlive);
    }
    case 'keep-alive':
      return keepAlive(conn, step.idleMs, step.ignoresFin);
    case 'fcgi-read':
    case 'fcgi-stream':
    case 'fcgi-end':
    case 'fcgi-respond':
    case 'fcgi-record':
      return runFcgiStep(conn, step);
    case 'h2-read':
    case 'h2-settings':
    case 'h2-headers':
    case 'h2-data':
    case 'h2-rst-stream':
    case 'h2-goaway':
    case 'h2-window-update':
    case 'h2-frame':
    case 'h2-message':
      return runH2Step(conn, step);
    case 'websocket-accept': {
      const key = conn.current ? headerValue(conn.current, 'sec-websocket-key') : undefined;
      const accept = createHash('sha1').update((key ?? '') + WS_GUID).digest('base64');
      conn.write(buildHead({ status: 101, headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': accept } }));
      return;
    }
  }
}

async function keepAlive(conn: Conn, idleMs: number, ignoresFin: boolean): Promise<StepResult> {
  await conn.flush();
  // The idle wait is for the next request: the rest of this one's body (a POST's, unread by
  // `respond`) is not it, and would otherwise end the wait at once and never close the connection.
  // Each wait for more of it is bounded by idleMs too, so a body that stalls still ends in the close.
  for (conn.takeBufferedBody(); !conn.bodyRead; conn.takeBufferedBody()) {
    if (!(await conn.waitForBytes(idleMs, ignoresFin))) return closeIdle(conn);
  }
  if (await conn.waitForBytes(idleMs, ignoresFin)) return;
  return closeIdle(conn);
}

function closeIdle(conn: Conn): StepResult {
  conn.close();
  return 'closed';
}



/** Send `bytes` in pieces of `chunkBytes` every `intervalMs`, on an absolute schedule so timing does not drift. */
async function dribble(conn: Conn, bytes: Bytes, length: number, chunkBytes: number, intervalMs: number, signal: AbortSignal): Promise<void> {
  const start = performance.now();
  for (let off = 0, i = 0; off < length; off += chunkBytes, i++) {
    const due = start + i * intervalMs - performance.now();
    if (due > 0) await sleep(due, undefined, { signal });
    else signal.throwIfAborted();
    if (conn.closed) return;
    if (!conn.write(sliceBytes(bytes, off, chunkBytes))) await drain(conn);
  }
}
