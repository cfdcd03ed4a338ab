/**
 * Writing compiled bytes to a connection, and what a step's run returns: shared by the HTTP
 * executor (executor.ts) and the FastCGI steps (fcgi-exec.ts), so neither imports the other.
 */
import type { Conn } from './conn.js';
import { isRepeat, sliceBytes, type Bytes } from './bytes.js';

export type ScriptEnd =
  /** The script finished and the connection is open for the next request. */
  | 'open'
  /** The script closed or reset the connection, or the peer went away. */
  | 'closed';

export type StepResult = ScriptEnd | void;

/** Resolves when the socket wants more (or never will: closed, or our side ended and nothing is queued). */
export function drain(conn: Conn): Promise<void> {
  if (conn.closed || !conn.socket.writableNeedDrain) return Promise.resolve();
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

/** The size of each write of a generated repeat: a few socket buffers' worth, built once per write step. */
const REPEAT_BLOCK = 64 * 1024;

/** Closed, or our side ended (a half-close before): the rest of a long write would go nowhere. */
const cannotWrite = (conn: Conn) => conn.closed || conn.socket.writableEnded;

/**
 * Writes compiled bytes: synchronously when they are buffers the socket takes at once (a
 * healthy response costs no promise), and a repeat as blocks made on the way, each after the
 * socket drained the previous one, so a gigabyte costs one block of memory.
 */
export function writeBytes(conn: Conn, bytes: Bytes): Promise<void> | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const part = bytes[i]!;
    if (isRepeat(part)) return writeRest(conn, bytes, i);
    if (!conn.write(part)) return i + 1 < bytes.length ? drain(conn).then(() => writeRest(conn, bytes, i + 1)) : drain(conn);
  }
  return undefined;
}

async function writeRest(conn: Conn, bytes: Bytes, from: number): Promise<void> {
  for (let i = from; i < bytes.length; i++) {
    const part = bytes[i]!;
    if (cannotWrite(conn)) return;
    if (!isRepeat(part)) {
      if (!conn.write(part)) await drain(conn);
      continue;
    }
    const total = part.pattern.length * part.times;
    // Whole patterns per block, so every block but the last is the same bytes.
    const perBlock = Math.max(1, Math.floor(REPEAT_BLOCK / part.pattern.length)) * part.pattern.length;
    const block = sliceBytes([part], 0, Math.min(perBlock, total));
    for (let off = 0; off < total; off += block.length) {
      if (cannotWrite(conn)) return;
      const piece = total - off >= block.length ? block : block.subarray(0, total - off);
      if (!conn.write(piece)) await drain(conn);
    }
  }
}
