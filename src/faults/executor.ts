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

export async function runScript(conn: Conn, steps: readonly Step[], onStep?: (e: StepEvent) => void): Promise<ScriptEnd> {
  try {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (conn.closed) return 'closed';
      onStep?.({ index: i, op: step.op });
      const end = await runStep(conn, step);
      if (end === 'closed') return 'closed';
    }
  } catch (err) {
    // A peer that left, or the upstream stopping, ends the script; the error is the data.
    conn.destroy();
    return 'closed';
  }
  return conn.closed ? 'closed' : 'open';
}

async function runStep(conn: Conn, step: Step): Promise<ScriptEnd | void> {
  switch (step.op) {
    case 'read-head': {
      const head = await conn.readHead();
      if (head === undefined) {
        conn.destroy();
        return 'closed';
      }
      return;
    }
    case 'read-body':
      await conn.readBody();
      return;
    case 'read-bytes':
      await conn.readBytes(step.count);
      return;
    case 'write':
      if (!conn.write(step.bytes)) await drain(conn);
      return;
    case 'delay':
      await sleep(step.ms, undefined, { signal: conn.signal });
      return;
    case 'dribble':
      await dribble(conn, step.bytes, step.chunkBytes, step.intervalMs);
      return;
    case 'close':
      conn.close();
      return 'closed';
    case 'reset':
      await conn.reset();
      return 'closed';
    case 'half-close':
      conn.halfClose();
      return;
    case 'hang':
      await conn.untilGone();
      conn.destroy();
      return 'closed';
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
    case 'keep-alive': {
      await conn.flush();
      const more = await conn.waitForBytes(step.idleMs);
      if (!more) {
        conn.close();
        return 'closed';
      }
      return;
    }
    case 'websocket-accept': {
      const key = conn.current ? headerValue(conn.current, 'sec-websocket-key') : undefined;
      const accept = createHash('sha1').update((key ?? '') + WS_GUID).digest('base64');
      conn.write(buildHead({ status: 101, headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': accept } }));
      return;
    }
  }
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
