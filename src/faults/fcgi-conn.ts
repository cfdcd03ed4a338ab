/**
 * A connection on a FastCGI listener: the bytes Conn buffers, read as FastCGI records through
 * the pure parser (src/fastcgi/parser.ts), one request at a time. Management records and
 * refused requests are answered as they come, between the steps of a script too.
 */
import type { Socket } from 'node:net';
import { FcgiParser, type FcgiEvent, type FcgiRequest, type ParserLimits } from '../fastcgi/parser.js';
import { BadRequestError, Conn } from './conn.js';

/** The peer broke the protocol or crossed a bound: a peer error (the script ends, the connection closes), with the bound it crossed. */
export class FcgiProtocolError extends BadRequestError {
  constructor(
    message: string,
    readonly limit?: 'params-bytes' | 'records',
  ) {
    super(message);
  }
}

/** How much of Conn's buffer goes to the parser at once: the parser holds at most one partial record more. */
const FEED = 64 * 1024;

export class FcgiConn extends Conn {
  readonly parser: FcgiParser;
  /** The request being served, once its PARAMS ended. */
  request: FcgiRequest | undefined;

  constructor(socket: Socket, limits: ParserLimits) {
    super(socket, { maxHeadBytes: limits.maxParamsBytes });
    this.parser = new FcgiParser(limits);
  }

  /** The next parser event, fed from the socket; management answers are written here. Rejects when the peer leaves or the head guard fires. */
  private async nextEvent(): Promise<Exclude<FcgiEvent, { kind: 'reply' }>> {
    for (;;) {
      const e = this.parser.next();
      if (e !== undefined) {
        if (e.kind === 'reply') {
          this.write(e.bytes);
          continue;
        }
        if (e.kind === 'error') throw new FcgiProtocolError(e.reason, e.limit);
        return e;
      }
      if (this.buf.length > 0) {
        this.parser.push(this.take(Math.min(FEED, this.buf.length)));
        continue;
      }
      if (this.headFailure) throw this.headFailure;
      await this.waitMore();
      if (this.headFailure) throw this.headFailure;
    }
  }

  /**
   * Read up to the end of the next request's PARAMS, skipping what is left of the previous one.
   * Resolves undefined when the peer closes cleanly between requests. `guarded`: the upstream's
   * own read, which its head guard may end (Conn.failHead).
   */
  async readRequest(guarded = false): Promise<FcgiRequest | undefined> {
    this.finishRequest();
    if (guarded && this.headSince < 0) this.headSince = this.buf.length > 0 || this.parser.buffered > 0 ? performance.now() : 0;
    try {
      for (;;) {
        let e;
        try {
          e = await this.nextEvent();
        } catch (err) {
          if ((err as { code?: string }).code === 'BG_PEER_CLOSED' && this.buf.length === 0 && this.parser.buffered === 0) return undefined;
          throw err;
        }
        if (e.kind === 'request') {
          this.request = e.request;
          this.requests++;
          return e.request;
        }
      }
    } finally {
      if (guarded) this.headSince = -1;
    }
  }

  /** Read (and drop) the rest of the current request's STDIN, to its empty record; resolves the bytes read. */
  async readStdin(): Promise<number> {
    let total = 0;
    const cur = this.parser.current;
    if (this.request === undefined || cur === undefined || cur.requestId !== this.request.requestId || cur.stdinDone) return 0;
    for (;;) {
      const e = await this.nextEvent();
      if (e.kind !== 'stdin') continue;
      total += e.bytes;
      if (e.end) return total;
    }
  }

  /** The request's END_REQUEST is written: records of its id that still come are ignored. */
  finishRequest(): void {
    this.parser.finishRequest();
  }
}
