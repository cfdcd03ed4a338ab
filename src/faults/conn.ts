/**
 * One accepted connection as the executor sees it: buffered reads of request
 * heads, bodies and raw bytes, and writes that can be flushed before a reset.
 * Every socket gets its error listener here, the moment it is wrapped: a reset
 * from the peer is data, never a crash.
 */
import type { Socket } from 'node:net';
import { ChunkedBodyScanner } from '../wire/chunked.js';
import { parseRequestHead, requestBodyFraming, type RequestHead } from '../wire/request-head.js';

const EMPTY = Buffer.alloc(0);
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Stop reading from the kernel when this much is buffered and nobody is reading. */
const HIGH_WATER = 1024 * 1024;
/** The request-head size limit when the listener gives none: the parser's own. */
export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;

export class PeerClosedError extends Error {
  readonly code = 'BG_PEER_CLOSED';
}
export class BadRequestError extends Error {
  readonly code = 'BG_BAD_REQUEST';
}
/** The request head grew past the listener's size limit (answered 431, not 400). */
export class HeadTooBigError extends BadRequestError {}
/** The listener's head guard ended the head read (see Conn.failHead); the upstream answers 408. */
export class HeadGuardError extends Error {}

export interface ConnOptions {
  /** Largest request head, terminator included; a bigger one is a HeadTooBigError. Default 64 KiB. */
  readonly maxHeadBytes?: number;
  /**
   * How to send an RST when the socket has none of its own: a TLS socket runs over a stream, and
   * its TCP connection (src/tls/listener.ts) resets. Default: the socket's resetAndDestroy().
   */
  readonly reset?: () => void;
}

let nextId = 1;

export class Conn {
  readonly id = nextId++;
  readonly socket: Socket;

  /** The request being served, once its head is read. */
  current: RequestHead | undefined;
  /** How many request heads have been read on this connection. */
  requests = 0;
  peerEnded = false;
  closed = false;
  lastError: Error | undefined;
  /**
   * The head guard's clock: when the upstream began waiting for the request head it routes on
   * (performance.now()), 0 while it waits on an idle kept-alive connection for the head's first
   * byte, -1 when no guarded head read is under way (a script is running: a fault may read slowly
   * on purpose). Set by the upstream at accept and by readHead(true).
   */
  headSince = -1;
  readonly maxHeadBytes: number;
  private readonly resetter: (() => void) | undefined;

  protected buf: Buffer = EMPTY;
  private waiter: (() => void) | undefined;
  private bodyLeft = 0;
  private chunked: ChunkedBodyScanner | undefined;
  // Made on first use: most connections never wait on a timer, and an AbortController
  // plus its abort on close cost more than the rest of a short connection's bookkeeping.
  private controller: AbortController | undefined;
  private finController: AbortController | undefined;
  /** How far the buffer is known to hold no blank line: a head sent a byte at a time is scanned once, not once per byte. */
  private headScanned = 0;
  protected headFailure: Error | undefined;

  /**
   * The upstream stops a connection by destroying its socket (it tracks every one),
   * so 'close' is the single event every wait needs.
   */
  constructor(socket: Socket, opts: ConnOptions = {}) {
    this.socket = socket;
    this.maxHeadBytes = opts.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.resetter = opts.reset;
    socket.on('error', (err) => {
      this.lastError = err;
      this.notify();
    });
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      if (this.buf.length > HIGH_WATER && this.waiter === undefined) socket.pause();
      // An idle kept-alive connection is not a slow head: the clock starts at the head's first byte.
      if (this.headSince === 0) this.headSince = performance.now();
      this.notify();
    });
    socket.on('end', () => {
      this.peerEnded = true;
      this.finController?.abort(new PeerClosedError('peer ended the connection'));
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.controller?.abort(new PeerClosedError('connection closed'));
      this.finController?.abort(new PeerClosedError('connection closed'));
      this.notify();
    });
  }

  /**
   * Aborted when the peer leaves: the socket closes (reset, error, the upstream stopping) or
   * the peer ends its side (FIN). A timed wait listens to this one unless its fault ignores the
   * peer's FIN: the upstream listens with allowHalfOpen, so a client that hangs up is only a
   * read EOF here, and a wait that missed it would keep the socket in CLOSE-WAIT to its end.
   */
  get finSignal(): AbortSignal {
    if (!this.finController) {
      this.finController = new AbortController();
      if (this.closed || this.peerEnded) this.finController.abort(new PeerClosedError('peer ended the connection'));
    }
    return this.finController.signal;
  }

  /** The signal a timed wait listens to: finSignal, or only the close when the fault ignores the peer's FIN. */
  waitSignal(ignoresFin: boolean): AbortSignal {
    return ignoresFin ? this.signal : this.finSignal;
  }

  /** Aborted when the socket closes: the timed waits of a fault that ignores the peer's FIN listen to it (others to finSignal). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.closed) this.controller.abort(new PeerClosedError('connection closed'));
    }
    return this.controller.signal;
  }

  get buffered(): number {
    return this.buf.length;
  }

  private notify(): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w();
    }
  }

  /** Wait until more bytes arrive, the peer ends, or the socket closes. */
  protected waitMore(): Promise<void> {
    if (this.closed || this.peerEnded) return Promise.reject(new PeerClosedError(this.peerEnded ? 'peer ended the connection' : 'connection closed'));
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  protected take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.headScanned = 0;
    if (this.socket.isPaused() && this.buf.length < HIGH_WATER) this.socket.resume();
    return out;
  }

  /**
   * Read the next request head, skipping whatever is left of the previous body.
   * Resolves undefined when the peer closes cleanly between requests.
   * `guarded`: the upstream's own read of the head it routes on, which its head guard may end
   * (failHead); a script's `read: head` is never guarded.
   */
  async readHead(guarded = false): Promise<RequestHead | undefined> {
    if (this.bodyLeft > 0 || this.chunked) await this.readBody();
    // On a new connection the clock has run since accept (set by the upstream).
    if (guarded && this.headSince < 0) this.headSince = this.buf.length > 0 ? performance.now() : 0;
    try {
      for (;;) {
        const head = this.tryHead();
        if (head) return head;
        if (this.headFailure) throw this.headFailure;
        try {
          await this.waitMore();
        } catch (err) {
          if (this.buf.length === 0) return undefined;
          throw err;
        }
        if (this.headFailure) throw this.headFailure;
      }
    } finally {
      if (guarded) this.headSince = -1;
    }
  }

  /**
   * End a guarded head read that is under way with `err` (the head guard's timeout). Returns false,
   * and does nothing, when no guarded head read is waiting.
   */
  failHead(err: Error): boolean {
    if (this.headSince < 0 || this.headFailure || this.closed) return false;
    this.headFailure = err;
    this.headSince = -1;
    this.notify();
    return true;
  }

  /**
   * The next request head if it is already buffered and no body is left to skip,
   * without a promise: the keep-alive fast path. Throws BadRequestError on an invalid head.
   */
  tryHead(): RequestHead | undefined {
    if (this.buf.length === 0 || this.bodyLeft > 0 || this.chunked) return undefined;
    if (this.headScanned > 0) {
      // A blank line split over two chunks starts up to 3 bytes before the new ones.
      const end = this.buf.indexOf(CRLFCRLF, Math.max(0, this.headScanned - 3));
      if (end === -1 && this.buf.length <= this.maxHeadBytes) {
        this.headScanned = this.buf.length;
        return undefined;
      }
    }
    const r = parseRequestHead(this.buf, this.maxHeadBytes);
    if (r.kind === 'invalid') {
      this.headScanned = 0;
      const end = this.buf.indexOf(CRLFCRLF);
      if (end === -1 ? this.buf.length > this.maxHeadBytes : end + 4 > this.maxHeadBytes) throw new HeadTooBigError(r.reason);
      throw new BadRequestError(r.reason);
    }
    if (r.kind !== 'ok') {
      this.headScanned = this.buf.length;
      return undefined;
    }
    this.headScanned = 0;
    this.headSince = -1;
    this.take(r.size);
    this.current = r.head;
    this.requests++;
    const framing = requestBodyFraming(r.head);
    this.bodyLeft = framing.kind === 'length' ? framing.length : 0;
    this.chunked = framing.kind === 'chunked' ? new ChunkedBodyScanner() : undefined;
    return r.head;
  }

  /** Read (and drop) the rest of the current request body; resolves the number of bytes read. */
  async readBody(): Promise<number> {
    let total = this.takeBufferedBody();
    while (!this.bodyRead) {
      await this.waitMore();
      total += this.takeBufferedBody();
    }
    return total;
  }

  /** True once the current request's body has been read whole (or it had none). */
  get bodyRead(): boolean {
    return !(this.bodyLeft > 0 || this.chunked);
  }

  /** Read what of the current request's body has arrived, without waiting; the bytes taken. */
  takeBufferedBody(): number {
    let total = 0;
    while (!this.bodyRead && this.buf.length > 0) {
      if (this.chunked) {
        const used = this.chunked.push(this.buf);
        if (this.chunked.error) throw new BadRequestError(this.chunked.error);
        this.take(used);
        total += used;
        if (this.chunked.done) this.chunked = undefined;
      } else {
        const n = Math.min(this.bodyLeft, this.buf.length);
        this.take(n);
        this.bodyLeft -= n;
        total += n;
      }
    }
    return total;
  }

  /**
   * Read and drop exactly `count` raw bytes (they count against the current body, if any),
   * as they arrive: only the count is kept, so a read of a gigabyte holds no more than a
   * socket read's worth.
   */
  async readBytes(count: number): Promise<void> {
    let left = count;
    while (left > 0) {
      if (this.buf.length === 0) {
        await this.waitMore();
        continue;
      }
      const piece = this.take(Math.min(left, this.buf.length));
      left -= piece.length;
      if (this.bodyLeft > 0) this.bodyLeft = Math.max(0, this.bodyLeft - piece.length);
      else if (this.chunked) {
        this.chunked.push(piece);
        if (this.chunked.done) this.chunked = undefined;
      }
    }
  }

  /**
   * Resolves when bytes are buffered (true) or after `ms` with none (false). Rejects when the
   * peer goes away: it closes, or it ends its side unless `ignoresFin` (then only a close
   * ends the wait early, and after a FIN it runs its full time: nothing more can arrive).
   */
  async waitForBytes(ms: number, ignoresFin = false): Promise<boolean> {
    if (this.buf.length > 0) return true;
    if (this.closed || (this.peerEnded && !ignoresFin)) throw new PeerClosedError('peer ended the connection');
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(false);
      }, ms);
      const check = () => {
        if (this.buf.length > 0) {
          clearTimeout(timer);
          resolve(true);
        } else if (this.closed || !ignoresFin) {
          clearTimeout(timer);
          reject(new PeerClosedError('peer ended the connection'));
        } else this.waiter = check;
      };
      this.waiter = check;
    });
  }

  /** Resolves when the peer ends or closes the connection, or the upstream stops. */
  untilGone(): Promise<void> {
    // Nothing reads after this: drop what arrives, so a peer that keeps sending costs neither memory nor copies.
    this.buf = EMPTY;
    if (this.closed || this.peerEnded) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        this.buf = EMPTY;
        if (this.closed || this.peerEnded) resolve();
        else this.waiter = check;
      };
      this.waiter = check;
      // Keep draining so a peer that keeps sending cannot stall on our window.
      if (this.socket.isPaused()) this.socket.resume();
    });
  }

  write(bytes: Buffer): boolean {
    if (this.closed || this.socket.writableEnded) return false;
    return this.socket.write(bytes);
  }

  /** Resolves once everything written so far has been handed to the kernel. */
  flush(): Promise<void> {
    if (this.closed || this.socket.writableLength === 0 || this.socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('close', done);
      this.socket.write(EMPTY, done);
    });
  }

  /** FIN after pending writes; the socket is released once the FIN is out, as a process calling close() would. */
  close(): void {
    if (this.closed) return;
    this.socket.end(() => this.socket.destroy());
  }

  /** Shut down our write side only; keep reading. */
  halfClose(): void {
    if (!this.closed) this.socket.end();
  }

  /** A real RST (SO_LINGER 0), after pending writes reach the kernel. */
  async reset(): Promise<void> {
    await this.flush();
    if (this.closed) return;
    if (this.resetter) this.resetter();
    else this.socket.resetAndDestroy();
  }

  destroy(): void {
    if (!this.closed) this.socket.destroy();
  }
}
