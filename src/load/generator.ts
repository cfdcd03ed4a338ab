/**
 * The open-model load generator. Request i is due at start + i/rate whether or not earlier ones
 * have answered; it goes out on the first free connection (at most `connections`, opened as
 * needed, kept alive, one request at a time on each: no pipelining). When every connection is
 * busy it waits, and its latency is counted from when it was due, not from when it went out, so
 * a stalled gateway cannot hide its stall (the coordinated-omission correction).
 *
 * Raw sockets, not undici or node:http: a request is one prebuilt Buffer written to a socket and
 * a response is read by a small parser that only looks for the status, the framing and the end
 * of the body, with no per-request objects beyond a few numbers. It also sees exactly what came
 * back (a reset, a FIN mid-body), which an HTTP client library smooths over or turns into
 * retries.
 */
import { connect, type Socket } from 'node:net';
import { ChunkedBodyScanner } from '../wire/chunked.js';
import { LatencyHistogram } from './histogram.js';

export interface GeneratorOptions {
  readonly host: string;
  readonly port: number;
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  readonly connections: number;
  /** The request bytes for each mix entry. */
  readonly requests: readonly Buffer[];
  /** The mix entry of the next request; called once per request, in request order. */
  readonly pick: () => number;
  /** A request without a whole response this long after it went out is given up (its connection closed). */
  readonly timeoutMs: number;
  /** After the last request is due, how long the ones in flight may take to finish. */
  readonly drainMs?: number;
  readonly signal?: AbortSignal;
  /** Called about every `progressMs` with the counts so far. */
  readonly onProgress?: (p: Progress) => void;
  readonly progressMs?: number;
}

export interface Progress {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly sent: number;
  readonly done: number;
  readonly errors: number;
}

export type BodyState = 'complete' | 'truncated' | 'none';
/** How a request without a response ended. */
export type NoResponseEnd = 'reset' | 'fin' | 'timeout' | 'connect-error' | 'protocol-error';

export interface PerEntry {
  readonly sent: number;
  readonly byStatus: Record<string, number>;
}

export interface SecondBucket {
  readonly second: number;
  done: number;
  errors: number;
  readonly latency: LatencyHistogram;
}

export interface GeneratorResult {
  /** Requests due within the duration (rate × duration, fewer when stopped early). */
  readonly due: number;
  /** Requests written to a connection. Each is in exactly one `byStatus` and one `byBody` count. */
  readonly sent: number;
  /** Due but never sent: every connection was busy until the run ended. */
  readonly unsent: number;
  /** Status code, `none` (no response), or `unfinished` (in flight when the run stopped). */
  readonly byStatus: Record<string, number>;
  readonly byBody: Record<BodyState, number>;
  /** For `none`: how the exchange ended. */
  readonly noResponse: Record<string, number>;
  /** By mix entry index. */
  readonly perEntry: readonly PerEntry[];
  /** From when each request was due to its last byte, µs; unfinished ones are not in it. */
  readonly latency: LatencyHistogram;
  /** Requests that went out more than LATE_MS after they were due (all connections busy, or the event loop late). */
  readonly late: number;
  /** Requests that found every connection busy when they were due and waited for one. */
  readonly queued: number;
  /** Longest a request waited past its due time before it went out, ms. */
  readonly maxSendDelayMs: number;
  /** From the first due time to the last answer (or the stop), ms. */
  readonly elapsedMs: number;
  /** From the first due time to when sending stopped (the duration, or less when interrupted), ms. */
  readonly windowMs: number;
  readonly timeline: readonly SecondBucket[];
  readonly connectionsOpened: number;
  readonly interrupted: boolean;
  /** FNV-1a over the mix index of every request sent, in order, as 8 hex digits: equal for runs that sent the same faults in the same order. */
  readonly sequenceDigest: string;
}

/** Timers fire a millisecond or two late on an idle loop: that is not the gateway's doing. */
export const LATE_MS = 5;
const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Bytes read per socket read: a whole response of the usual fault fits. */
const READ_BUFFER = 64 * 1024;

interface InFlight {
  readonly entry: number;
  readonly dueAt: number;
  readonly sentAt: number;
}

type BodyMode = 'length' | 'chunked' | 'close';

export function runGenerator(opts: GeneratorOptions): Promise<GeneratorResult> {
  return new Promise((resolve) => {
    const period = 1000 / opts.rate;
    const total = Math.max(0, Math.floor((opts.rate * opts.durationMs) / 1000));
    const latency = new LatencyHistogram();
    const byStatus: Record<string, number> = {};
    const byBody: Record<BodyState, number> = { complete: 0, truncated: 0, none: 0 };
    const noResponse: Record<string, number> = {};
    const perEntry = opts.requests.map(() => ({ sent: 0, byStatus: {} as Record<string, number> }));
    const timeline: SecondBucket[] = [];
    let dispatched = 0;
    let doneCount = 0;
    let errors = 0;
    let late = 0;
    let queued = 0;
    let digest = 0x811c9dc5;
    /** Requests below this index found no free connection when they were due. */
    let queuedBelow = 0;
    let maxSendDelay = 0;
    let opened = 0;
    let stopped = false;
    let interrupted = false;
    let lastAnswer = 0;
    let stoppedAt = 0;
    // One read buffer for every connection (net's `onread`): a read is parsed before the next can
    // happen, so nothing is allocated per read and no stream machinery runs; what must outlive a
    // read (a partial head) is copied out of it.
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER);
    const idle: Conn[] = [];
    const all = new Set<Conn>();
    const start = performance.now();
    const endAt = start + opts.durationMs;

    const bump = (rec: Record<string, number>, key: string) => (rec[key] = (rec[key] ?? 0) + 1);

    const finish = (f: InFlight, status: string, body: BodyState, end?: NoResponseEnd) => {
      const now = performance.now();
      bump(byStatus, status);
      byBody[body]++;
      bump(perEntry[f.entry]!.byStatus, status);
      if (status === 'unfinished') return;
      if (end) bump(noResponse, end);
      doneCount++;
      lastAnswer = now;
      const us = (now - f.dueAt) * 1000;
      latency.record(us);
      const sec = Math.floor((now - start) / 1000);
      while (timeline.length <= sec) timeline.push({ second: timeline.length, done: 0, errors: 0, latency: new LatencyHistogram() });
      const b = timeline[sec]!;
      b.done++;
      b.latency.record(us);
      const code = Number(status);
      if (!(code >= 200 && code < 300)) {
        errors++;
        b.errors++;
      }
    };

    class Conn {
      socket: Socket | undefined;
      current: InFlight | undefined;
      private head: Buffer | undefined;
      private status = 0;
      private mode: BodyMode = 'length';
      private remaining = 0;
      private chunked: ChunkedBodyScanner | undefined;
      private closeAfter = false;
      private inBody = false;

      send(entry: number, dueAt: number): void {
        if (!this.socket) this.open();
        this.current = { entry, dueAt, sentAt: performance.now() };
        this.head = undefined;
        this.inBody = false;
        this.socket!.write(opts.requests[entry]!);
      }

      private open(): void {
        opened++;
        const s = connect({ host: opts.host, port: opts.port, onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => (this.onData((buf as Buffer).subarray(0, n)), true) } });
        s.setNoDelay(true);
        this.socket = s;
        let reset = false;
        let errCode: string | undefined;
        let connected = false;
        s.on('connect', () => (connected = true));
        s.on('error', (err: NodeJS.ErrnoException) => {
          errCode = err.code;
          if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
        });
        s.on('close', () => {
          if (this.socket !== s) return;
          this.socket = undefined;
          if (!this.current) return;
          const end: NoResponseEnd = !connected && errCode ? 'connect-error' : reset ? 'reset' : 'fin';
          if (this.inBody && this.mode === 'close' && !reset) this.complete('complete');
          else if (this.inBody) this.complete('truncated');
          else this.fail(end);
        });
      }

      private onData(d: Buffer): void {
        if (!this.current) return; // bytes nobody asked for: ignored, the next request resets the parser
        if (!this.inBody) {
          const buf = this.head ? Buffer.concat([this.head, d]) : d;
          let at = buf.indexOf(CRLFCRLF);
          let off = 0;
          // Interim (1xx, not 101) heads come before the final one.
          while (at !== -1 && !this.parseHead(buf.toString('latin1', off, at))) {
            off = at + 4;
            at = buf.indexOf(CRLFCRLF, off);
          }
          if (at === -1) {
            if (buf.length - off > MAX_HEAD) return this.drop('protocol-error');
            this.head = Buffer.from(buf.subarray(off)); // a copy: `buf` may be the shared read buffer
            return;
          }
          if (this.status === 0) return this.drop('protocol-error');
          this.head = undefined;
          this.inBody = true;
          d = buf.subarray(at + 4);
          if (this.mode === 'length' && this.remaining === 0) return this.complete('complete');
        }
        if (d.length === 0) return;
        if (this.mode === 'length') {
          this.remaining -= d.length;
          if (this.remaining <= 0) this.complete('complete');
        } else if (this.mode === 'chunked') {
          this.chunked!.push(d);
          if (this.chunked!.error) {
            this.closeAfter = true;
            this.complete('truncated');
          } else if (this.chunked!.done) this.complete('complete');
        }
      }

      /** False for an interim head (read on); true for the final one, with the framing set. */
      private parseHead(text: string): boolean {
        const sp = text.indexOf(' ');
        const status = text.startsWith('HTTP/1.') && sp !== -1 ? Number(text.slice(sp + 1, sp + 4)) : 0;
        if (!(status >= 100 && status <= 999)) {
          this.status = 0;
          return true;
        }
        if (status >= 100 && status < 200 && status !== 101) return false;
        this.status = status;
        let length = -1;
        let chunked = false;
        let close = text.startsWith('HTTP/1.0');
        let i = text.indexOf('\r\n');
        while (i !== -1) {
          const next = text.indexOf('\r\n', i + 2);
          const line = text.slice(i + 2, next === -1 ? undefined : next);
          const c = line.indexOf(':');
          if (c > 0) {
            const name = line.slice(0, c).trim().toLowerCase();
            if (name === 'content-length') length = Number(line.slice(c + 1).trim());
            else if (name === 'transfer-encoding') chunked = /chunked/i.test(line.slice(c + 1));
            else if (name === 'connection') {
              const v = line.slice(c + 1).trim().toLowerCase();
              if (v.includes('close')) close = true;
              else if (v.includes('keep-alive')) close = false;
            }
          }
          i = next;
        }
        this.closeAfter = close;
        this.chunked = undefined;
        if (status === 204 || status === 304 || (status === 101 && !chunked)) {
          this.mode = 'length';
          this.remaining = 0;
        } else if (chunked) {
          this.mode = 'chunked';
          this.chunked = new ChunkedBodyScanner();
        } else if (length >= 0 && Number.isSafeInteger(length)) {
          this.mode = 'length';
          this.remaining = length;
        } else {
          this.mode = 'close';
          this.closeAfter = true;
        }
        return true;
      }

      private complete(body: BodyState): void {
        const f = this.current!;
        this.current = undefined;
        this.inBody = false;
        finish(f, String(this.status), body);
        if (this.closeAfter || body === 'truncated') this.discard();
        this.release();
      }

      private fail(end: NoResponseEnd): void {
        const f = this.current!;
        this.current = undefined;
        finish(f, 'none', 'none', end);
        this.release();
      }

      /** Gives up the request in flight: its connection cannot be trusted with another. */
      drop(end: NoResponseEnd): void {
        if (this.inBody) {
          this.closeAfter = true;
          this.complete('truncated');
          return;
        }
        this.discard();
        this.fail(end);
      }

      discard(): void {
        const s = this.socket;
        this.socket = undefined;
        s?.destroy();
      }

      private release(): void {
        if (stopped) return void settle();
        idle.push(this);
        pump();
      }
    }

    const take = (): Conn | undefined => {
      const c = idle.pop();
      if (c) return c;
      if (all.size >= opts.connections) return undefined;
      const n = new Conn();
      all.add(n);
      return n;
    };

    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      if (stopped) return;
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / period) + 1);
      while (dispatched < due) {
        const c = take();
        if (!c) break;
        const dueAt = start + dispatched * period;
        const delay = now - dueAt;
        if (delay > LATE_MS) late++;
        if (delay > maxSendDelay) maxSendDelay = delay;
        if (dispatched < queuedBelow) queued++;
        const entry = opts.pick();
        digest = Math.imul(digest ^ entry, 0x01000193) >>> 0;
        perEntry[entry]!.sent++;
        dispatched++;
        c.send(entry, dueAt);
      }
      // Past the end (a late timer): what was due has just gone out where a connection was free.
      if (now >= endAt) return stop(false);
      // Every request has gone out: the end timer stops the run.
      if (dispatched >= total) return;
      // Waiting for a connection to come free pumps again; otherwise wake at the next due time.
      if (dispatched < due) {
        queuedBelow = due;
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(pump, Math.max(0, start + dispatched * period - now));
    };

    let drainTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const inFlight = () => [...all].filter((c) => c.current !== undefined);
    const stop = (abort: boolean) => {
      if (!stopped) {
        stopped = true;
        stoppedAt = performance.now();
        clearTimeout(timer);
        if (abort) interrupted = true;
        if (!abort) drainTimer = setTimeout(() => stop(true), opts.drainMs ?? opts.timeoutMs);
      }
      if (abort) {
        clearTimeout(drainTimer);
        for (const c of all) {
          if (c.current) {
            const f = c.current;
            c.current = undefined;
            finish(f, 'unfinished', 'none');
          }
          c.discard();
        }
      }
      settle();
    };

    const settle = () => {
      if (finished || !stopped || inFlight().length > 0) return;
      finished = true;
      clearTimeout(drainTimer);
      clearTimeout(endTimer);
      clearInterval(sweep);
      clearInterval(progress);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const c of all) c.discard();
      const dueCount = interrupted ? Math.min(total, Math.floor((performance.now() - start) / period) + 1) : total;
      resolve({
        due: Math.max(dueCount, dispatched),
        sent: dispatched,
        unsent: Math.max(0, Math.max(dueCount, dispatched) - dispatched),
        byStatus,
        byBody,
        noResponse,
        perEntry,
        latency,
        late,
        queued,
        maxSendDelayMs: maxSendDelay,
        elapsedMs: Math.max(lastAnswer, Math.min(performance.now(), endAt)) - start,
        windowMs: Math.min(stoppedAt, endAt) - start,
        timeline,
        connectionsOpened: opened,
        interrupted,
        sequenceDigest: digest.toString(16).padStart(8, '0'),
      });
    };

    // One sweep for every request's timeout: cheaper than a timer per request.
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const c of all) if (c.current && now - c.current.sentAt > opts.timeoutMs) c.drop('timeout');
    }, Math.min(100, opts.timeoutMs));
    const progress = setInterval(() => {
      opts.onProgress?.({ elapsedMs: Math.min(opts.durationMs, performance.now() - start), durationMs: opts.durationMs, sent: dispatched, done: doneCount, errors });
    }, opts.progressMs ?? 250);
    // The end comes on time even when every connection hangs and nothing calls pump().
    const endTimer = setTimeout(() => {
      pump();
      stop(false);
    }, opts.durationMs);
    const onAbort = () => stop(true);
    if (opts.signal?.aborted) return stop(true);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}
