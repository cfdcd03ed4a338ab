/**
 * Runs a compiled script of steps on one connection. Intentional drops (close,
 * reset) end the script; a peer that goes away ends it too. Neither is an error.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { headerValue, wantsKeepAlive } from '../wire/request-head.js';
import { buildHead } from '../wire/response.js';
import type { Conn } from './conn.js';
import type { Step } from './steps.js';

export type ScriptEnd =
  /** The script finished and the connection is open for the next request. */
  | 'open'
  /** The script closed or reset the connection, or the peer went away. */
  | 'closed';

export interface StepEvent {
  readonly index: number;
  readonly op: Step['op'];
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Runs the steps; returns synchronously while every step is synchronous (a
 * healthy response costs no promise), and a promise from the first step that waits.
 */
export function runScript(conn: Conn, steps: readonly Step[], onStep?: (e: StepEvent) => void): ScriptEnd | Promise<ScriptEnd> {
  try {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (conn.closed) return 'closed';
      onStep?.({ index: i, op: step.op });
      const end = runStep(conn, step);
      if (end instanceof Promise) return continueAsync(conn, steps, i, end, onStep);
      if (end === 'closed') return 'closed';
    }
  } catch {
    conn.destroy();
    return 'closed';
  }
  return conn.closed ? 'closed' : 'open';
}

async function continueAsync(conn: Conn, steps: readonly Step[], at: number, pending: Promise<StepResult>, onStep?: (e: StepEvent) => void): Promise<ScriptEnd> {
  try {
    if ((await pending) === 'closed') return 'closed';
    for (let i = at + 1; i < steps.length; i++) {
      const step = steps[i]!;
      if (conn.closed) return 'closed';
      onStep?.({ index: i, op: step.op });
      if ((await runStep(conn, step)) === 'closed') return 'closed';
    }
  } catch {
    // A peer that left, or the upstream stopping, ends the script; the error is the data.
    conn.destroy();
    return 'closed';
  }
  return conn.closed ? 'closed' : 'open';
}

type StepResult = ScriptEnd | void;

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
      return conn.readBytes(step.count).then(() => undefined);
    case 'write':
      return conn.write(step.bytes) ? undefined : drain(conn);
    case 'delay':
      return sleep(step.ms, undefined, { signal: conn.signal });
    case 'dribble':
      return dribble(conn, step.bytes, step.chunkBytes, step.intervalMs);
    case 'close':
      conn.close();
      return 'closed';
    case 'reset':
      return conn.reset().then(() => 'closed' as const);
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
        conn.write(step.close);
        conn.close();
        return 'closed';
      }
      conn.write(req !== undefined && req.version === 'HTTP/1.0' ? step.http10KeepAlive : step.keepAlive);
      return;
    }
    case 'keep-alive':
      return keepAlive(conn, step.idleMs);
    case 'websocket-accept': {
      const key = conn.current ? headerValue(conn.current, 'sec-websocket-key') : undefined;
      const accept = createHash('sha1').update((key ?? '') + WS_GUID).digest('base64');
      conn.write(buildHead({ status: 101, headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': accept } }));
      return;
    }
  }
}

async function keepAlive(conn: Conn, idleMs: number): Promise<StepResult> {
  await conn.flush();
  if (await conn.waitForBytes(idleMs)) return;
  conn.close();
  return 'closed';
}

function drain(conn: Conn): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      conn.socket.off('drain', done);
      conn.socket.off('close', done);
      resolve();
    };
    conn.socket.on('drain', done);
    conn.socket.on('close', done);
  });
}

/** Send `bytes` in pieces of `chunkBytes` every `intervalMs`, on an absolute schedule so timing does not drift. */
async function dribble(conn: Conn, bytes: Buffer, chunkBytes: number, intervalMs: number): Promise<void> {
  const start = performance.now();
  for (let off = 0, i = 0; off < bytes.length; off += chunkBytes, i++) {
    const due = start + i * intervalMs - performance.now();
    if (due > 0) await sleep(due, undefined, { signal: conn.signal });
    if (conn.closed) return;
    conn.write(bytes.subarray(off, off + chunkBytes));
  }
}
