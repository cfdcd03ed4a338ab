/**
 * What a client sees on the wire from an HTTP/2 fault, as frames: the counterpart of
 * WireExpectation (src/faults/fault.ts) for `protocol: h2`. Written by hand as data in each
 * fault's file, never derived from its steps; test/h2/wire.test.ts plays every one with a raw
 * frame client and compares frame by frame (HEADERS by their decoded fields, since HPACK's
 * bytes are the library's business).
 */
import type { FrameTypeName } from '../h2/frames.js';
import type { WireBounds, WireBytes } from './wire-types.js';

export interface H2WireFrame {
  readonly type: FrameTypeName;
  /** Default 0. */
  readonly flags?: number;
  /** Default 0 for SETTINGS, PING and GOAWAY, 1 (the request's stream) for the others. */
  readonly stream?: number;
  /** HEADERS (and a HEADERS followed by CONTINUATION): the decoded fields, in order. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Any other frame: its payload exactly. Default empty. */
  readonly payload?: WireBytes;
}

export interface H2WireExpectation {
  /**
   * The request on stream 1, after the client preface and an empty SETTINGS: `:method` (default GET),
   * `:scheme` http, `:authority` test, `:path` /<id><query>, then `headers`; with `body`, one DATA
   * frame carrying it (END_STREAM), else END_STREAM on the HEADERS.
   */
  readonly request?: { readonly method?: string; readonly headers?: ReadonlyArray<readonly [string, string]>; readonly body?: WireBytes };
  readonly query?: string;
  /** Exactly these frames, in order, nothing more. */
  readonly frames: readonly H2WireFrame[];
  /** How the connection ends: FIN, RST, or still open when the client stops waiting (`timeoutMs`, default 400 ms after the last byte). */
  readonly end: 'fin' | 'reset' | 'open';
  readonly timeoutMs?: number;
  /** When the connection ends (or the client stops waiting), in ms after the request was written. */
  readonly durationMs?: WireBounds;
}
