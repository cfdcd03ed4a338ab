/**
 * A raw HTTP/2 client (h2c, prior knowledge) for the wire tests: it writes the client preface, an
 * empty SETTINGS, one request on stream 1 (and its body as one DATA frame), then records every
 * frame the server sends and how the connection ends, without answering anything: what a client
 * sees from the upstream alone, before any HTTP/2 library has judged it.
 */
import { connect } from 'node:net';
import { CLIENT_PREFACE, encodeFrame, FLAG, FRAME_TYPE, FrameParser, framePayloadData, MAX_FRAME_LIMIT, type Frame } from '../../src/h2/frames.js';
import { HpackDecoder, HpackEncoder } from '../../src/h2/hpack.js';

export interface RawH2Frame extends Frame {
  /** HEADERS (with its CONTINUATIONs): the decoded fields; undefined when the block did not decode. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

export interface RawH2Result {
  readonly frames: readonly RawH2Frame[];
  /** Bytes after the last whole frame. */
  readonly trailing: number;
  readonly end: 'fin' | 'reset' | 'open' | 'error';
  readonly durationMs: number;
}

export interface RawH2Request {
  readonly port: number;
  readonly path: string;
  readonly method?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Stop waiting this long after the last byte (the connection is then `open`); before the first byte, `timeoutMs` alone. Default 400 ms. */
  readonly idleMs?: number;
  /** Stop waiting this long after the request was written, whatever comes. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export function requestFrames(req: Pick<RawH2Request, 'path' | 'method' | 'headers' | 'body'>): Buffer {
  const block = new HpackEncoder().encode([[':method', req.method ?? 'GET'], [':scheme', 'http'], [':authority', 'test'], [':path', req.path], ...(req.headers ?? [])]);
  const parts = [CLIENT_PREFACE, encodeFrame(FRAME_TYPE.SETTINGS, 0, 0), encodeFrame(FRAME_TYPE.HEADERS, FLAG.END_HEADERS | (req.body === undefined ? FLAG.END_STREAM : 0), 1, block)];
  if (req.body !== undefined) parts.push(encodeFrame(FRAME_TYPE.DATA, FLAG.END_STREAM, 1, req.body));
  return Buffer.concat(parts);
}

/** Frames out of the bytes a server sent, header blocks decoded in order with one table, as a client would. */
export function parseServerFrames(bytes: Buffer): { frames: RawH2Frame[]; trailing: number } {
  const parser = new FrameParser(MAX_FRAME_LIMIT);
  parser.push(bytes);
  const decoder = new HpackDecoder();
  const frames: RawH2Frame[] = [];
  let block: Buffer[] | undefined;
  let opener: Frame | undefined;
  for (let f = parser.next(); f !== undefined; f = parser.next()) {
    if (f.type === FRAME_TYPE.HEADERS) {
      opener = f;
      block = [framePayloadData(f) ?? Buffer.alloc(0)];
    } else if (f.type === FRAME_TYPE.CONTINUATION && block !== undefined) block.push(f.payload);
    else {
      frames.push(f);
      continue;
    }
    if (f.flags & FLAG.END_HEADERS) {
      let headers: Array<[string, string]> | undefined;
      try {
        headers = decoder.decode(Buffer.concat(block));
      } catch {
        headers = undefined;
      }
      frames.push({ ...opener!, headers });
      block = undefined;
    } else if (f.type === FRAME_TYPE.CONTINUATION) continue;
  }
  return { frames, trailing: parser.buffered };
}

export function rawH2Request(req: RawH2Request): Promise<RawH2Result> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: req.port });
    const parts: Buffer[] = [];
    let start = performance.now();
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (end: RawH2Result['end']) => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      clearTimeout(idle);
      socket.destroy();
      const { frames, trailing } = parseServerFrames(Buffer.concat(parts));
      resolve({ frames, trailing, end, durationMs: performance.now() - start });
    };
    const overall = setTimeout(() => finish('open'), req.timeoutMs ?? 5000);
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish('open'), req.idleMs ?? 400);
    };
    socket.on('connect', () => {
      start = performance.now();
      // The idle clock starts with the first byte: on a loaded machine the answer itself may take longer than idleMs.
      socket.write(requestFrames(req));
    });
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      arm();
    });
    socket.on('end', () => finish('fin'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'reset' : 'error'));
  });
}
