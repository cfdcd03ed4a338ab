/** A raw TCP client that records exactly what came back and how the connection ended. */
import { connect, type Socket } from 'node:net';

export interface RawResult {
  readonly bytes: Buffer;
  /** How the stream ended: FIN (end), RST (ECONNRESET), another error, or our own timeout. */
  readonly end: 'fin' | 'reset' | 'error' | 'timeout';
  readonly errorCode?: string;
  /** ms since the request was written, for each chunk received. */
  readonly chunks: ReadonlyArray<{ readonly atMs: number; readonly size: number }>;
  readonly durationMs: number;
}

export interface RawOptions {
  readonly port: number;
  readonly host?: string;
  readonly path?: string;
  readonly timeoutMs?: number;
  /** Close our side after writing (half-close). */
  readonly endAfterWrite?: boolean;
}

export function rawRequest(request: string | Buffer, opts: RawOptions): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket: Socket = opts.path ? connect({ path: opts.path }) : connect({ host: opts.host ?? '127.0.0.1', port: opts.port });
    const parts: Buffer[] = [];
    const chunks: Array<{ atMs: number; size: number }> = [];
    let start = performance.now();
    let done = false;
    const finish = (end: RawResult['end'], errorCode?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(parts), end, errorCode, chunks, durationMs: performance.now() - start });
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 3000);
    socket.on('connect', () => {
      start = performance.now();
      socket.write(request);
      if (opts.endAfterWrite) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      chunks.push({ atMs: performance.now() - start, size: d.length });
    });
    socket.on('end', () => finish('fin'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'reset' : 'error', err.code));
  });
}

export const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;

/** Resolves when a plain connect() completes, or reports why it did not within timeoutMs. */
export function tryConnect(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<'connected' | 'timeout' | string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? e.message);
    });
  });
}

export type StreamEnd = { readonly end: 'fin' | 'reset' | 'error'; readonly errorCode?: string; readonly atMs: number };

/**
 * A raw connection kept open across several writes: for keep-alive, pipelining
 * and peers that misbehave (half-open, RST, slow readers). Every wait has a timeout.
 */
export interface RawSession {
  readonly socket: Socket;
  /** Resolves on connect; rejects with the connect error's code. */
  readonly connected: Promise<void>;
  /** Everything received so far. */
  bytes(): Buffer;
  /** ms since connect, for each chunk received. */
  readonly chunks: ReadonlyArray<{ readonly atMs: number; readonly size: number }>;
  /** Codes of every error the socket reported, including after the stream ended. */
  readonly errors: readonly string[];
  /** ms since connect, now. */
  now(): number;
  write(data: string | Buffer): void;
  /** Resolves with all bytes received once `pred` holds for them, or rejects after timeoutMs. */
  waitFor(pred: (bytes: Buffer) => boolean, timeoutMs: number): Promise<Buffer>;
  /** Resolves when the stream ends (FIN, RST or another error), or 'timeout' after timeoutMs. */
  waitEnd(timeoutMs: number): Promise<StreamEnd | 'timeout'>;
  /** Resolves 'quiet' if nothing arrives and the stream does not end for ms. */
  quietFor(ms: number): Promise<'quiet' | 'data' | 'ended'>;
  destroy(): void;
}

export interface SessionOptions {
  readonly port?: number;
  readonly host?: string;
  readonly path?: string;
  /** Keep our write side open after the peer's FIN (default false: Node ends ours too). */
  readonly allowHalfOpen?: boolean;
}

export function openSession(opts: SessionOptions): RawSession {
  const allowHalfOpen = opts.allowHalfOpen ?? false;
  const socket: Socket = opts.path ? connect({ path: opts.path, allowHalfOpen }) : connect({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, allowHalfOpen });
  const parts: Buffer[] = [];
  const chunks: Array<{ atMs: number; size: number }> = [];
  let start = performance.now();
  let ended: StreamEnd | undefined;
  const listeners = new Set<() => void>();
  const errors: string[] = [];
  const changed = () => {
    for (const l of [...listeners]) l();
  };
  const finish = (e: Omit<StreamEnd, 'atMs'>) => {
    if (ended) return;
    ended = { ...e, atMs: performance.now() - start };
    changed();
  };
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      start = performance.now();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)));
  });
  connected.catch(() => {});
  socket.on('data', (d: Buffer) => {
    parts.push(d);
    chunks.push({ atMs: performance.now() - start, size: d.length });
    changed();
  });
  socket.on('end', () => finish({ end: 'fin' }));
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  socket.on('error', (err: NodeJS.ErrnoException) => finish({ end: err.code === 'ECONNRESET' ? 'reset' : 'error', errorCode: err.code }));
  const bytes = () => (parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  /** Settles when check() returns a value (an Error rejects), or with onTimeout() after timeoutMs. */
  const watch = <T>(check: () => T | Error | undefined, timeoutMs: number, onTimeout: () => T | Error): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const settle = (v: T | Error) => {
        listeners.delete(l);
        clearTimeout(timer);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const l = () => {
        const v = check();
        if (v !== undefined) settle(v);
      };
      const timer = setTimeout(() => settle(onTimeout()), timeoutMs);
      listeners.add(l);
      l();
    });
  return {
    socket,
    connected,
    bytes,
    chunks,
    errors,
    now: () => performance.now() - start,
    write: (data) => void socket.write(data),
    waitFor: (pred, timeoutMs) =>
      watch(
        () => {
          const b = bytes();
          if (pred(b)) return b;
          if (ended) return new Error(`stream ended (${ended.end}) after ${b.length} bytes before the expected bytes arrived`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`timed out after ${timeoutMs} ms with ${bytes().length} bytes: ${JSON.stringify(bytes().toString('latin1').slice(0, 200))}`),
      ),
    waitEnd: (timeoutMs) => watch<StreamEnd | 'timeout'>(() => ended, timeoutMs, () => 'timeout'),
    quietFor: (ms) => {
      const seen = chunks.length;
      return watch<'quiet' | 'data' | 'ended'>(() => (ended ? 'ended' : chunks.length > seen ? 'data' : undefined), ms, () => 'quiet');
    },
    destroy: () => socket.destroy(),
  };
}

/** Lets the event loop reach its close phase, where handles closed so far are released. */
export const loopTurn = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** Polls `cond` every few ms; rejects when it does not hold within timeoutMs. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
