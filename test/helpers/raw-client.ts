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
