/**
 * A connection on the upstream's HTTP/2 listener: the bytes Conn buffers, read as frames
 * (src/h2/frames.ts), with the state a server keeps that the faults' steps share: the peer's
 * settings, the flow-control windows, the HPACK tables, the requests (streams) read and not yet
 * served. The server's connection preface, an empty SETTINGS frame, goes out as soon as the
 * client's preface is read, before any request is routed (RFC 9113 section 3.4): clients such as
 * HAProxy's backend mux send no request until they have it. Frames that need an answer whatever
 * the fault does are answered as they are read (SETTINGS with an ACK, PING with its ACK, DATA with
 * WINDOW_UPDATE) once the script of the request has started (`ensurePreface`), so a fault's own
 * `h2-settings` step still decides about ACKs and window credit; between the steps of a script
 * too, as FcgiConn answers management records. Only what a step reads is
 * read: a script that writes and hangs leaves the client's frames in the buffer, as a stuck
 * server would.
 */
import type { Socket } from 'node:net';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  encodeFrame,
  ERROR_CODE,
  FLAG,
  FRAME_TYPE,
  FrameParser,
  FrameTooBigError,
  framePayloadData,
  goawayPayload,
  MAX_FRAME_LIMIT,
  parseSettings,
  SETTING,
  settingsPayload,
  windowUpdatePayload,
  type Frame,
} from '../h2/frames.js';
import { HpackDecoder, HpackEncoder, HpackError } from '../h2/hpack.js';
import type { RequestHead } from '../wire/request-head.js';
import { BadRequestError, Conn, type ConnOptions } from './conn.js';

/** The peer broke HTTP/2 (a connection error, RFC 9113 section 5.4.1): the upstream sends GOAWAY with `code` and closes. */
export class H2ProtocolError extends BadRequestError {
  constructor(
    message: string,
    readonly h2code: number = ERROR_CODE.PROTOCOL_ERROR,
  ) {
    super(message);
  }
}

/** A request: one stream the client opened with HEADERS. */
export interface H2Stream {
  readonly id: number;
  readonly head: RequestHead;
  /** The client sent END_STREAM: its body is complete. */
  ended: boolean;
  /** The client reset the stream (RST_STREAM), with this error code. */
  resetCode?: number;
  /** Body bytes received (DATA payloads without padding). */
  bodyBytes: number;
}

const FEED = 64 * 1024;

export class H2Conn extends Conn {
  readonly parser = new FrameParser(DEFAULT_MAX_FRAME);
  readonly encoder = new HpackEncoder();
  private readonly decoder = new HpackDecoder();
  private prefaceRead = false;
  /** The server's connection preface (its first, empty SETTINGS) has been written, on reading the client's. */
  private prefaceWritten = false;
  /** A script (or the upstream's own answer) has started: the ACKs, PING ACKs and WINDOW_UPDATEs a server owes now go out. */
  serverPrefaceSent = false;
  /** Client SETTINGS frames not yet acknowledged: their ACKs must follow the server's own SETTINGS (section 3.4). */
  private pendingAcks = 0;
  /** Acknowledge the client's SETTINGS (a fault may withhold it: `h2-settings: {ack: false}`). */
  acksSettings = true;
  /** Give the client flow-control credit back for the DATA read (a fault may withhold it: `windowUpdates: false`). */
  grantsWindow = true;
  /** What the client's SETTINGS said, by id. */
  readonly peerSettings = new Map<number, number>();
  /** How much the server may still send, on the connection and per stream (section 6.9). */
  connWindow = DEFAULT_WINDOW;
  private readonly streamWindows = new Map<number, number>();
  /** The request being served. */
  stream: H2Stream | undefined;
  /** Every stream the client opened and the upstream has not finished with, by id. */
  private readonly streams = new Map<number, H2Stream>();
  /** Requests read and not yet served, oldest first. */
  private readonly queue: H2Stream[] = [];
  /** The highest stream id the client opened. */
  lastPeerStream = 0;
  /** The client sent GOAWAY. */
  peerGoaway = false;
  /** A header block under way (HEADERS without END_HEADERS, then CONTINUATION). */
  private partial: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;

  constructor(socket: Socket, opts: ConnOptions) {
    super(socket, opts);
  }

  get peerMaxFrame(): number {
    return this.peerSettings.get(SETTING.MAX_FRAME_SIZE) ?? DEFAULT_MAX_FRAME;
  }

  streamWindow(id: number): number {
    return this.streamWindows.get(id) ?? this.peerSettings.get(SETTING.INITIAL_WINDOW_SIZE) ?? DEFAULT_WINDOW;
  }

  /** What the server wrote of a stream's window (and the connection's) by sending `n` bytes of DATA. */
  spend(streamId: number, n: number): void {
    this.connWindow -= n;
    this.streamWindows.set(streamId, this.streamWindow(streamId) - n);
  }

  writeFrame(type: number, flags: number, streamId: number, payload?: Buffer): boolean {
    return this.write(encodeFrame(type, flags, streamId, payload));
  }

  /**
   * A SETTINGS frame of the server's (after the preface: a second one, which the client applies and
   * judges just the same, section 6.5), followed by the ACKs the client's SETTINGS are owed.
   */
  writeSettings(settings: ReadonlyArray<readonly [number, number]>): void {
    this.writeFrame(FRAME_TYPE.SETTINGS, 0, 0, settingsPayload(settings));
    this.prefaceWritten = true;
    this.serverPrefaceSent = true;
    this.flushAcks();
  }

  /** Before any other frame of a script: the preface if it is not out yet, and the ACKs owed. */
  ensurePreface(): void {
    if (this.serverPrefaceSent) return;
    if (!this.prefaceWritten) {
      this.writeSettings([]);
      return;
    }
    this.serverPrefaceSent = true;
    this.flushAcks();
  }

  private flushAcks(): void {
    if (!this.acksSettings) return;
    for (; this.pendingAcks > 0; this.pendingAcks--) this.writeFrame(FRAME_TYPE.SETTINGS, FLAG.ACK, 0);
  }

  /** Sends GOAWAY for a connection error of the peer's. */
  goaway(code: number, debug: string): void {
    this.ensurePreface();
    this.writeFrame(FRAME_TYPE.GOAWAY, 0, 0, goawayPayload(this.lastPeerStream, code, Buffer.from(debug.slice(0, 200), 'utf8')));
  }

  /** The next frame, fed from the socket; handles what every server must (see the class comment). Rejects when the peer leaves. */
  async nextFrame(): Promise<Frame> {
    for (;;) {
      if (!this.prefaceRead) this.readPreface();
      if (this.prefaceRead) {
        const f = this.parseNext();
        if (f !== undefined) {
          this.handle(f);
          return f;
        }
        if (this.buf.length > 0) {
          this.parser.push(this.take(Math.min(FEED, this.buf.length)));
          continue;
        }
      }
      if (this.headFailure) throw this.headFailure;
      await this.waitMore();
      if (this.headFailure) throw this.headFailure;
    }
  }

  private readPreface(): void {
    const n = Math.min(CLIENT_PREFACE.length, this.buf.length);
    if (!this.buf.subarray(0, n).equals(CLIENT_PREFACE.subarray(0, n))) {
      throw new H2ProtocolError(`the connection does not start with the HTTP/2 client preface (this listener speaks h2c with prior knowledge): ${JSON.stringify(this.buf.subarray(0, 24).toString('latin1'))}`);
    }
    if (n < CLIENT_PREFACE.length) return;
    this.take(CLIENT_PREFACE.length);
    this.prefaceRead = true;
    if (!this.prefaceWritten) {
      this.writeFrame(FRAME_TYPE.SETTINGS, 0, 0);
      this.prefaceWritten = true;
    }
  }

  private parseNext(): Frame | undefined {
    try {
      return this.parser.next();
    } catch (err) {
      if (err instanceof FrameTooBigError) throw new H2ProtocolError(err.message, ERROR_CODE.FRAME_SIZE_ERROR);
      throw err;
    }
  }

  private handle(f: Frame): void {
    if (this.partial !== undefined && f.type !== FRAME_TYPE.CONTINUATION) throw new H2ProtocolError('a frame other than CONTINUATION inside a header block');
    switch (f.type) {
      case FRAME_TYPE.SETTINGS: {
        if (f.flags & FLAG.ACK) return;
        for (const [id, value] of parseSettings(f.payload)) {
          if (id === SETTING.INITIAL_WINDOW_SIZE) {
            // A change of the initial window moves every open stream's window by the difference (section 6.9.2).
            const delta = value - (this.peerSettings.get(id) ?? DEFAULT_WINDOW);
            for (const [sid, w] of this.streamWindows) this.streamWindows.set(sid, w + delta);
          }
          if (id === SETTING.MAX_FRAME_SIZE && (value < DEFAULT_MAX_FRAME || value > MAX_FRAME_LIMIT)) throw new H2ProtocolError(`SETTINGS_MAX_FRAME_SIZE ${value}`);
          this.peerSettings.set(id, value);
        }
        this.pendingAcks++;
        if (this.serverPrefaceSent) this.flushAcks();
        return;
      }
      case FRAME_TYPE.PING:
        if (!(f.flags & FLAG.ACK) && this.serverPrefaceSent) this.writeFrame(FRAME_TYPE.PING, FLAG.ACK, 0, f.payload);
        return;
      case FRAME_TYPE.WINDOW_UPDATE: {
        const inc = f.payload.length >= 4 ? f.payload.readUInt32BE(0) & 0x7fffffff : 0;
        if (f.streamId === 0) this.connWindow += inc;
        else this.streamWindows.set(f.streamId, this.streamWindow(f.streamId) + inc);
        return;
      }
      case FRAME_TYPE.GOAWAY:
        this.peerGoaway = true;
        return;
      case FRAME_TYPE.RST_STREAM: {
        const s = this.streams.get(f.streamId);
        if (s !== undefined) s.resetCode = f.payload.length >= 4 ? f.payload.readUInt32BE(0) : ERROR_CODE.NO_ERROR;
        return;
      }
      case FRAME_TYPE.DATA: {
        const data = framePayloadData(f);
        if (data === undefined) throw new H2ProtocolError('a DATA frame whose padding is longer than the frame');
        const s = this.streams.get(f.streamId);
        if (s !== undefined) {
          s.bodyBytes += data.length;
          if (f.flags & FLAG.END_STREAM) s.ended = true;
        }
        // Credit back what was read, frame by frame, so a client with a body larger than a window never waits on us (unless the fault says so).
        if (this.grantsWindow && f.length > 0 && this.serverPrefaceSent) {
          this.writeFrame(FRAME_TYPE.WINDOW_UPDATE, 0, 0, windowUpdatePayload(f.length));
          if (!(f.flags & FLAG.END_STREAM)) this.writeFrame(FRAME_TYPE.WINDOW_UPDATE, 0, f.streamId, windowUpdatePayload(f.length));
        }
        return;
      }
      case FRAME_TYPE.HEADERS: {
        const block = framePayloadData(f);
        if (block === undefined) throw new H2ProtocolError('a HEADERS frame whose padding is longer than the frame');
        this.partial = { streamId: f.streamId, endStream: (f.flags & FLAG.END_STREAM) !== 0, parts: [block], bytes: block.length };
        if (f.flags & FLAG.END_HEADERS) this.endBlock();
        return;
      }
      case FRAME_TYPE.CONTINUATION: {
        const p = this.partial;
        if (p === undefined || p.streamId !== f.streamId) throw new H2ProtocolError('a CONTINUATION frame that continues no header block');
        p.parts.push(f.payload);
        p.bytes += f.payload.length;
        if (p.bytes > this.maxHeadBytes) throw new H2ProtocolError(`a header block larger than ${this.maxHeadBytes} bytes`, ERROR_CODE.ENHANCE_YOUR_CALM);
        if (f.flags & FLAG.END_HEADERS) this.endBlock();
        return;
      }
    }
  }

  private endBlock(): void {
    const p = this.partial!;
    this.partial = undefined;
    let fields: Array<[string, string]>;
    try {
      fields = this.decoder.decode(Buffer.concat(p.parts));
    } catch (err) {
      if (err instanceof HpackError) throw new H2ProtocolError(err.message, ERROR_CODE.COMPRESSION_ERROR);
      throw err;
    }
    const open = this.streams.get(p.streamId);
    if (open !== undefined) {
      // Trailers of a request body.
      if (p.endStream) open.ended = true;
      return;
    }
    if (p.streamId % 2 === 0 || p.streamId <= this.lastPeerStream) throw new H2ProtocolError(`HEADERS on stream ${p.streamId}, which the client cannot open now`);
    this.lastPeerStream = p.streamId;
    const s: H2Stream = { id: p.streamId, head: requestHead(fields), ended: p.endStream, bodyBytes: 0 };
    this.streams.set(s.id, s);
    this.queue.push(s);
    this.requests++;
  }

  /**
   * The next request (HEADERS that open a stream), reading frames until one is there; it becomes
   * `stream`. Resolves undefined when the peer closes cleanly between requests. `guarded`: the
   * upstream's own read, which its head guard may end.
   */
  async readRequest(guarded = false): Promise<H2Stream | undefined> {
    if (guarded && this.headSince < 0) this.headSince = this.buf.length > 0 || this.parser.buffered > 0 ? performance.now() : 0;
    try {
      while (this.queue.length === 0) {
        try {
          const f = await this.nextFrame();
          // A connection that only keeps itself alive (PING, WINDOW_UPDATE) is idle, not a slow request.
          if (guarded && f.type !== FRAME_TYPE.HEADERS && this.partial === undefined && this.buf.length === 0 && this.parser.buffered === 0) this.headSince = 0;
        } catch (err) {
          if ((err as { code?: string }).code === 'BG_PEER_CLOSED' && this.buf.length === 0 && this.parser.buffered === 0 && this.partial === undefined) return undefined;
          throw err;
        }
      }
      const s = this.queue.shift()!;
      this.stream = s;
      this.current = s.head;
      return s;
    } finally {
      if (guarded) this.headSince = -1;
    }
  }

  /** Read the current request's body: DATA to END_STREAM (or the stream's reset); resolves the bytes read. */
  async readStreamBody(): Promise<number> {
    const s = this.stream;
    if (s === undefined) return 0;
    while (!s.ended && s.resetCode === undefined) await this.nextFrame();
    return s.bodyBytes;
  }

  /** The upstream is done with the current stream. */
  finishStream(): void {
    if (this.stream !== undefined) {
      this.streams.delete(this.stream.id);
      this.streamWindows.delete(this.stream.id);
    }
    this.stream = undefined;
  }

  /** The client's body is not read past this: a stream that ended still holds frames, read by the next readRequest. */
  get hasPendingRequest(): boolean {
    return this.queue.length > 0;
  }
}

/**
 * The request as the router sees it: `:path` is the target (its query string included), `:method`
 * the method; the other fields, pseudo-headers too, are its headers in order (`:authority` as
 * `host` as well, so a Host route matches either).
 */
export function requestHead(fields: ReadonlyArray<readonly [string, string]>): RequestHead {
  let method = 'GET';
  let target = '/';
  const headers: Array<readonly [string, string]> = [];
  for (const [n, v] of fields) {
    if (n === ':method') method = v;
    else if (n === ':path') target = v;
    else if (n === ':authority') headers.push(['host', v]);
    if (!n.startsWith(':')) headers.push([n, v]);
  }
  const q = target.indexOf('?');
  return { method, target, path: q === -1 ? target : target.slice(0, q), version: 'HTTP/2', headers };
}
