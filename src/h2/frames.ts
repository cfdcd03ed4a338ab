/**
 * HTTP/2 framing (RFC 9113 section 4 and 6), pure: the 9-byte frame header, the payloads the
 * upstream writes and reads (SETTINGS, RST_STREAM, GOAWAY, WINDOW_UPDATE, PING), and an
 * incremental parser bounded in the frame size it accepts. Nothing here checks that a frame
 * makes sense: the faults write wrong ones on purpose, and the reader only has to survive them.
 */

/** The client connection preface (RFC 9113 section 3.4), before its first SETTINGS frame. */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value (section 6.5.2): the largest payload a peer must accept unless it says more. */
export const DEFAULT_MAX_FRAME = 16_384;
/** The largest value SETTINGS_MAX_FRAME_SIZE may take (section 6.5.2): 2^24-1, what a 24-bit length holds. */
export const MAX_FRAME_LIMIT = 16_777_215;
/** The initial flow-control window of the connection and of every stream (section 6.9.2). */
export const DEFAULT_WINDOW = 65_535;
/** The largest flow-control window (section 6.9.1): 2^31-1. */
export const MAX_WINDOW = 2_147_483_647;

export const FRAME_TYPE = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;
export type FrameTypeName = keyof typeof FRAME_TYPE;

export const FLAG = {
  END_STREAM: 0x1,
  /** SETTINGS and PING. */
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes (section 7). */
export const ERROR_CODE = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;
export type ErrorCodeName = keyof typeof ERROR_CODE;

/** SETTINGS parameters (section 6.5.2). */
export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;
export type SettingName = keyof typeof SETTING;

export function errorCodeName(code: number): string {
  for (const [name, v] of Object.entries(ERROR_CODE)) if (v === code) return name;
  return `0x${code.toString(16)}`;
}

export interface FrameHeader {
  /** The payload length the header declares (24 bits). */
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  /** 31 bits; the reserved bit is dropped on read and written as 0. */
  readonly streamId: number;
}

export interface Frame extends FrameHeader {
  readonly payload: Buffer;
}

export function encodeFrameHeader(h: FrameHeader): Buffer {
  const b = Buffer.alloc(FRAME_HEADER_BYTES);
  b.writeUIntBE(h.length & 0xffffff, 0, 3);
  b[3] = h.type & 0xff;
  b[4] = h.flags & 0xff;
  b.writeUInt32BE(h.streamId & 0x7fffffff, 5);
  return b;
}

export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([encodeFrameHeader({ length: payload.length, type, flags, streamId }), payload]);
}

export function settingsPayload(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const b = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], i) => {
    b.writeUInt16BE(id & 0xffff, i * 6);
    b.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return b;
}

export function parseSettings(payload: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let off = 0; off + 6 <= payload.length; off += 6) out.push([payload.readUInt16BE(off), payload.readUInt32BE(off + 2)]);
  return out;
}

export function rstStreamPayload(code: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(code >>> 0);
  return b;
}

export function goawayPayload(lastStreamId: number, code: number, debug: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  b.writeUInt32BE(code >>> 0, 4);
  return Buffer.concat([b, debug]);
}

export function parseGoaway(payload: Buffer): { lastStreamId: number; code: number; debug: Buffer } | undefined {
  if (payload.length < 8) return undefined;
  return { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4), debug: payload.subarray(8) };
}

export function windowUpdatePayload(increment: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(increment & 0x7fffffff);
  return b;
}

/**
 * The payload of a HEADERS or DATA frame without its padding and (HEADERS) priority fields;
 * undefined when the padding is longer than the frame (a PROTOCOL_ERROR, section 6.1).
 */
export function framePayloadData(f: Frame): Buffer | undefined {
  let p = f.payload;
  let pad = 0;
  if (f.flags & FLAG.PADDED) {
    if (p.length < 1) return undefined;
    pad = p[0]!;
    p = p.subarray(1);
  }
  if (f.type === FRAME_TYPE.HEADERS && f.flags & FLAG.PRIORITY) {
    if (p.length < 5) return undefined;
    p = p.subarray(5);
  }
  if (pad > p.length) return undefined;
  return p.subarray(0, p.length - pad);
}

/** A frame larger than the parser accepts: the peer broke SETTINGS_MAX_FRAME_SIZE (a FRAME_SIZE_ERROR). */
export class FrameTooBigError extends Error {}

/**
 * Frames out of a byte stream, one at a time. It holds at most one partial frame; a frame whose
 * declared length is beyond `maxFrame` is an error before its payload is buffered, so a peer
 * cannot make it hold 16 MiB by declaring it.
 */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  constructor(public maxFrame: number = DEFAULT_MAX_FRAME) {}

  push(bytes: Buffer): void {
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([this.buf, bytes]);
  }

  get buffered(): number {
    return this.buf.length;
  }

  /** The next whole frame, or undefined until more bytes come. Throws FrameTooBigError. */
  next(): Frame | undefined {
    if (this.buf.length < FRAME_HEADER_BYTES) return undefined;
    const length = this.buf.readUIntBE(0, 3);
    if (length > this.maxFrame) throw new FrameTooBigError(`a frame of ${length} bytes, larger than SETTINGS_MAX_FRAME_SIZE ${this.maxFrame}`);
    if (this.buf.length < FRAME_HEADER_BYTES + length) return undefined;
    const f: Frame = {
      length,
      type: this.buf[3]!,
      flags: this.buf[4]!,
      streamId: this.buf.readUInt32BE(5) & 0x7fffffff,
      payload: this.buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length),
    };
    this.buf = this.buf.subarray(FRAME_HEADER_BYTES + length);
    return f;
  }
}
