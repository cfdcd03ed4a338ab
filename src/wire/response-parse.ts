/**
 * Reads back what a client received: status line, interim responses, headers,
 * and whether the body was complete for its framing. Pure.
 */
import { ChunkedBodyScanner } from './chunked.js';

export interface ParsedResponse {
  readonly kind: 'empty' | 'no-status-line' | 'partial-head' | 'response';
  readonly status?: number;
  readonly reason?: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Interim (1xx, not 101) statuses seen before the final one. */
  readonly interim: readonly number[];
  readonly headBytes: number;
  readonly bodyBytes: number;
  /** The Content-Length, when there was one. */
  readonly expectedBodyBytes?: number;
  readonly framing: 'none' | 'length' | 'chunked' | 'close' | 'upgrade';
  /** True when the framing says the body is all there (close-delimited bodies count as complete at a clean end). */
  readonly complete: boolean;
  /** Bytes after the body (or after a 101 head: the upgraded stream). */
  readonly rest: Buffer;
}

const STATUS = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/;

export function parseResponse(bytes: Buffer, opts: { method?: string; cleanEnd: boolean }): ParsedResponse {
  const none = { headers: [], interim: [], headBytes: 0, bodyBytes: 0, framing: 'none' as const, complete: false, rest: Buffer.alloc(0) };
  if (bytes.length === 0) return { kind: 'empty', ...none };
  if (!bytes.subarray(0, 5).toString('latin1').startsWith('HTTP/'.slice(0, Math.min(5, bytes.length)))) {
    return { kind: 'no-status-line', ...none, bodyBytes: bytes.length, complete: opts.cleanEnd };
  }
  const interim: number[] = [];
  let off = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', off, 'latin1');
    if (end === -1) {
      const line = bytes.toString('latin1', off, Math.min(bytes.length, off + 200)).split('\r\n')[0]!;
      const m = STATUS.exec(line);
      return { kind: 'partial-head', ...none, status: m ? Number(m[3]) : undefined, interim };
    }
    const lines = bytes.toString('latin1', off, end).split('\r\n');
    const m = STATUS.exec(lines[0]!);
    if (!m) return { kind: 'no-status-line', ...none, bodyBytes: bytes.length, complete: opts.cleanEnd, interim };
    const status = Number(m[3]);
    const headers = lines.slice(1).map((l): [string, string] => {
      const c = l.indexOf(':');
      return c === -1 ? [l, ''] : [l.slice(0, c), l.slice(c + 1).trim()];
    });
    const headBytes = end + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(status);
      off = headBytes;
      continue;
    }
    const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    const base = { kind: 'response' as const, status, reason: m[4], headers, interim, headBytes };
    const body = bytes.subarray(headBytes);
    if (status === 101) return { ...base, bodyBytes: 0, framing: 'upgrade', complete: true, rest: body };
    if (opts.method === 'HEAD' || status === 204 || status === 304) return { ...base, bodyBytes: 0, framing: 'none', complete: true, rest: body };
    const te = get('transfer-encoding');
    if (te !== undefined && /chunked\s*$/i.test(te)) {
      const scanner = new ChunkedBodyScanner();
      const used = scanner.push(body);
      return { ...base, bodyBytes: scanner.payloadBytes, framing: 'chunked', complete: scanner.done && !scanner.error, rest: body.subarray(used) };
    }
    const cl = get('content-length');
    if (cl !== undefined && /^\d+$/.test(cl)) {
      const n = Number(cl);
      return { ...base, bodyBytes: Math.min(body.length, n), expectedBodyBytes: n, framing: 'length', complete: body.length >= n, rest: body.subarray(n) };
    }
    return { ...base, bodyBytes: body.length, framing: 'close', complete: opts.cleanEnd, rest: Buffer.alloc(0) };
  }
}
