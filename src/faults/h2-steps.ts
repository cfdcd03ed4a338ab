/**
 * The HTTP/2 steps of the step language: what a fault with `protocol: h2` writes as frames
 * and reads of the client's. Pure: compiled here, run by src/faults/h2-exec.ts. Header blocks
 * stay name/value pairs until they are written, since HPACK's dynamic table belongs to the
 * connection. Nothing is checked against HTTP/2's rules beyond what a frame can hold: a
 * fault writes wrong frames on purpose.
 */
import { z } from 'zod';
import { headerPairs } from '../wire/response.js';
import { ERROR_CODE, FRAME_TYPE, SETTING, errorCodeName, type FrameTypeName, type SettingName } from '../h2/frames.js';
import { checkStepBytes, compileBytes, headersSchema, mergeBuffers, StepError, zodCheck, type BytePart, type Bytes } from './bytes.js';

export type H2StepDef =
  | { readonly 'h2-read': 'request' | 'body' }
  | { readonly 'h2-settings': { readonly settings?: unknown; readonly ack?: boolean; readonly windowUpdates?: boolean } | null }
  | { readonly 'h2-headers': { readonly status?: number | string; readonly headers?: unknown; readonly endStream?: boolean; readonly endHeaders?: boolean; readonly stream?: number | string } }
  | { readonly 'h2-data': { readonly data?: unknown; readonly endStream?: boolean; readonly stream?: number | string; readonly flowControl?: boolean } }
  | { readonly 'h2-rst-stream': string | number | { readonly error?: string | number; readonly stream?: number | string } }
  | { readonly 'h2-goaway': { readonly lastStreamId?: number | string; readonly error?: string | number; readonly debug?: string } | null }
  | { readonly 'h2-window-update': { readonly increment: number | string; readonly stream?: number | string } }
  | { readonly 'h2-frame': { readonly type: string | number; readonly flags?: number | string; readonly stream?: number | string; readonly payload?: unknown; readonly length?: number | string } }
  | { readonly 'h2-respond': { readonly status?: number | string; readonly headers?: unknown; readonly body?: unknown; readonly trailers?: unknown } | null }
  | {
      readonly 'grpc-reply': {
        readonly headers?: unknown;
        readonly messages?: unknown;
        readonly status?: number | string;
        readonly message?: string;
        readonly trailers?: unknown;
        readonly trailersOnly?: boolean;
        readonly endStream?: boolean;
      } | null;
    };

type Pairs = ReadonlyArray<readonly [string, string]>;

/** `stream` undefined: the request's own stream. */
export type H2Step =
  /** `request`: the next request's HEADERS (a new stream), as `read: head` reads the next HTTP/1 request; `body`: the current request's DATA to END_STREAM. */
  | { readonly op: 'h2-read'; readonly what: 'request' | 'body' }
  | { readonly op: 'h2-settings'; readonly settings: ReadonlyArray<readonly [number, number]>; readonly ack: boolean; readonly windowUpdates: boolean }
  | { readonly op: 'h2-headers'; readonly headers: Pairs; readonly endStream: boolean; readonly endHeaders: boolean; readonly stream: number | undefined }
  | { readonly op: 'h2-data'; readonly bytes: Bytes; readonly length: number; readonly endStream: boolean; readonly stream: number | undefined; readonly flowControl: boolean }
  | { readonly op: 'h2-rst-stream'; readonly code: number; readonly stream: number | undefined }
  /** `lastStreamId`: a number, or the request's stream (`current`) or the one before it (`previous`: current - 2, at least 0). */
  | { readonly op: 'h2-goaway'; readonly lastStreamId: number | 'current' | 'previous'; readonly code: number; readonly debug: Buffer }
  | { readonly op: 'h2-window-update'; readonly increment: number; readonly stream: number | undefined }
  /** One frame as declared, however wrong: `declared` is the length its header says, `length` what follows it. */
  | { readonly op: 'h2-frame'; readonly type: number; readonly flags: number; readonly stream: number | undefined; readonly payload: Bytes; readonly length: number; readonly declared: number }
  /**
   * A whole response on the request's stream: HEADERS, DATA (flow-controlled), trailers; END_STREAM on
   * the last of them unless `endStream` is false. `kind` says which step wrote it (h2-respond, grpc-reply).
   */
  | {
      readonly op: 'h2-message';
      readonly kind: 'respond' | 'grpc';
      readonly headers: Pairs | undefined;
      readonly body: Bytes;
      readonly length: number;
      readonly trailers: Pairs | undefined;
      readonly endStream: boolean;
    };

export const H2_STEP_NAMES = ['h2-read', 'h2-settings', 'h2-headers', 'h2-data', 'h2-rst-stream', 'h2-goaway', 'h2-window-update', 'h2-frame', 'h2-respond', 'grpc-reply'] as const;

const u31 = z.number().int().min(0).max(0x7fffffff);
const u32 = z.number().int().min(0).max(0xffffffff);

function named(value: unknown, names: Readonly<Record<string, number>>, path: Array<string | number>, what: string, max: number, prefix = ''): number {
  if (typeof value === 'string') {
    const key = value.toUpperCase().replace(/-/g, '_');
    const bare = prefix !== '' && key.startsWith(prefix) ? key.slice(prefix.length) : key;
    if (Object.hasOwn(names, bare)) return names[bare]!;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  throw new StepError(path, `${what} is a number from 0 to ${max} or one of ${Object.keys(names).join(', ')}`);
}

export const errorCode = (v: unknown, path: Array<string | number>) => named(v, ERROR_CODE, path, 'an error code', 0xffffffff);

function streamId(v: unknown, path: Array<string | number>): number | undefined {
  if (v === undefined) return undefined;
  return zodCheck(u31, v, path);
}

/** Header fields as written: a map or a list of pairs, names exactly as given (HTTP/2 wants them lower-case; a fault may not). */
function pairs(v: unknown, path: Array<string | number>): Pairs {
  if (v === undefined || v === null) return [];
  return headerPairs(zodCheck(headersSchema, v, path)).map(([n, val]) => [n, String(val)] as const);
}

function settingsList(v: unknown, path: Array<string | number>): Array<readonly [number, number]> {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    return v.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new StepError([...path, i], 'a setting in a list is [id, value], e.g. [4, 0] for SETTINGS_INITIAL_WINDOW_SIZE 0');
      return [named(pair[0], SETTING, [...path, i, 0], 'a setting id', 0xffff, 'SETTINGS_'), zodCheck(u32, pair[1], [...path, i, 1])] as const;
    });
  }
  if (typeof v !== 'object') throw new StepError(path, 'settings is a map of name: value (e.g. INITIAL_WINDOW_SIZE: 0) or a list of [id, value]');
  return Object.entries(v as Record<string, unknown>).map(([k, val]) => [named(/^\d+$/.test(k) ? Number(k) : k, SETTING, [...path, k], 'a setting', 0xffff, 'SETTINGS_'), zodCheck(u32, val, [...path, k])] as const);
}

/** A gRPC message: the 5-byte prefix (compressed flag, length) and its bytes; `length` may declare more than there is. */
function grpcMessages(v: unknown, path: Array<string | number>): BytePart[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new StepError(path, 'messages is a list: each message its bytes, or {data, length} to declare another length than the data has');
  const out: BytePart[] = [];
  v.forEach((m, i) => {
    const at = [...path, i];
    const isSpec = m !== null && typeof m === 'object' && !Array.isArray(m) && 'data' in m;
    const spec = isSpec ? zodCheck(z.strictObject({ data: z.unknown(), length: u32.optional(), compressed: z.boolean().optional() }), m, at) : { data: m, length: undefined, compressed: undefined };
    const data = compileBytes(spec.data ?? '', isSpec ? [...at, 'data'] : at);
    const n = checkStepBytes(data, at);
    const prefix = Buffer.alloc(5);
    prefix[0] = spec.compressed ? 1 : 0;
    prefix.writeUInt32BE(spec.length ?? n, 1);
    out.push(prefix, ...data);
  });
  return out;
}

/** gRPC's grpc-message is percent-encoded (PROTOCOL-HTTP2.md: bytes outside 0x20-0x7E, and %). */
function grpcPercentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** An HTTP/2 step as written in YAML, compiled; `name` is one of H2_STEP_NAMES. */
export function compileH2Step(name: string, arg: unknown, at: Array<string | number>): H2Step {
  switch (name) {
    case 'h2-read':
      if (arg === 'request' || arg === 'body') return { op: 'h2-read', what: arg };
      throw new StepError(at, 'h2-read reads the request body (DATA to END_STREAM: h2-read: body) or the next request on the connection (h2-read: request)');
    case 'h2-settings': {
      const r = zodCheck(z.strictObject({ settings: z.unknown().optional(), ack: z.boolean().optional(), windowUpdates: z.boolean().optional() }), arg ?? {}, at);
      return { op: 'h2-settings', settings: settingsList(r.settings, [...at, 'settings']), ack: r.ack ?? true, windowUpdates: r.windowUpdates ?? true };
    }
    case 'h2-headers': {
      const r = zodCheck(
        z.strictObject({ status: z.number().int().min(0).max(999).optional(), headers: z.unknown().optional(), endStream: z.boolean().optional(), endHeaders: z.boolean().optional(), stream: z.unknown().optional() }),
        arg ?? {},
        at,
      );
      const headers = pairs(r.headers, [...at, 'headers']);
      return {
        op: 'h2-headers',
        headers: r.status === undefined ? headers : [[':status', String(r.status)], ...headers],
        endStream: r.endStream ?? false,
        endHeaders: r.endHeaders ?? true,
        stream: streamId(r.stream, [...at, 'stream']),
      };
    }
    case 'h2-data': {
      const r = zodCheck(z.strictObject({ data: z.unknown().optional(), endStream: z.boolean().optional(), stream: z.unknown().optional(), flowControl: z.boolean().optional() }), arg ?? {}, at);
      const bytes = r.data === undefined ? [] : compileBytes(r.data, [...at, 'data']);
      return { op: 'h2-data', bytes, length: checkStepBytes(bytes, [...at, 'data']), endStream: r.endStream ?? false, stream: streamId(r.stream, [...at, 'stream']), flowControl: r.flowControl ?? true };
    }
    case 'h2-rst-stream': {
      if (typeof arg === 'string' || typeof arg === 'number') return { op: 'h2-rst-stream', code: errorCode(arg, at), stream: undefined };
      const r = zodCheck(z.strictObject({ error: z.unknown().optional(), stream: z.unknown().optional() }), arg ?? {}, at);
      return { op: 'h2-rst-stream', code: r.error === undefined ? ERROR_CODE.CANCEL : errorCode(r.error, [...at, 'error']), stream: streamId(r.stream, [...at, 'stream']) };
    }
    case 'h2-goaway': {
      const r = zodCheck(z.strictObject({ lastStreamId: z.unknown().optional(), error: z.unknown().optional(), debug: z.string().optional() }), arg ?? {}, at);
      const last = r.lastStreamId === undefined || r.lastStreamId === 'current' || r.lastStreamId === 'previous' ? (r.lastStreamId ?? 'current') : zodCheck(u31, r.lastStreamId, [...at, 'lastStreamId']);
      return { op: 'h2-goaway', lastStreamId: last as number | 'current' | 'previous', code: r.error === undefined ? ERROR_CODE.NO_ERROR : errorCode(r.error, [...at, 'error']), debug: Buffer.from(r.debug ?? '', 'utf8') };
    }
    case 'h2-window-update': {
      const r = zodCheck(z.strictObject({ increment: u31, stream: z.unknown().optional() }), arg, at);
      return { op: 'h2-window-update', increment: r.increment, stream: streamId(r.stream, [...at, 'stream']) };
    }
    case 'h2-frame': {
      const r = zodCheck(
        z.strictObject({ type: z.unknown(), flags: z.number().int().min(0).max(255).optional(), stream: z.unknown().optional(), payload: z.unknown().optional(), length: z.number().int().min(0).max(0xffffff).optional() }),
        arg,
        at,
      );
      if (r.type === undefined) throw new StepError([...at, 'type'], 'h2-frame needs type: a number from 0 to 255 or a name such as DATA, HEADERS, SETTINGS, GOAWAY');
      const payload = r.payload === undefined ? [] : compileBytes(r.payload, [...at, 'payload']);
      const length = checkStepBytes(payload, [...at, 'payload']);
      if (r.length === undefined && length > 0xffffff) throw new StepError([...at, 'payload'], `a frame holds at most ${0xffffff} bytes; this one has ${length}`);
      return { op: 'h2-frame', type: named(r.type, FRAME_TYPE, [...at, 'type'], 'type', 255), flags: r.flags ?? 0, stream: streamId(r.stream, [...at, 'stream']), payload, length, declared: r.length ?? length };
    }
    case 'h2-respond': {
      const r = zodCheck(z.strictObject({ status: z.number().int().min(100).max(999).optional(), headers: z.unknown().optional(), body: z.unknown().optional(), trailers: z.unknown().optional() }), arg ?? {}, at);
      const body = r.body === undefined ? [] : compileBytes(r.body, [...at, 'body']);
      const length = checkStepBytes(body, [...at, 'body']);
      const headers = pairs(r.headers, [...at, 'headers']);
      const withLength = headers.some(([n]) => n.toLowerCase() === 'content-length') ? headers : [...headers, ['content-length', String(length)] as const];
      const trailers = r.trailers === undefined ? undefined : pairs(r.trailers, [...at, 'trailers']);
      return { op: 'h2-message', kind: 'respond', headers: [[':status', String(r.status ?? 200)], ...withLength], body, length, trailers, endStream: true };
    }
    case 'grpc-reply': {
      const r = zodCheck(
        z.strictObject({
          headers: z.unknown().optional(),
          messages: z.unknown().optional(),
          status: z.union([z.number().int().min(0).max(0xffffffff), z.literal('none')]).optional(),
          message: z.string().optional(),
          trailers: z.unknown().optional(),
          trailersOnly: z.boolean().optional(),
          endStream: z.boolean().optional(),
        }),
        arg ?? {},
        at,
      );
      const status: Pairs = r.status === 'none' ? [] : [['grpc-status', String(r.status ?? 0)]];
      const message: Pairs = r.message === undefined ? [] : [['grpc-message', grpcPercentEncode(r.message)]];
      const trailers: Pairs = [...status, ...message, ...pairs(r.trailers, [...at, 'trailers'])];
      const head: Pairs = [[':status', '200'], ['content-type', 'application/grpc'], ...pairs(r.headers, [...at, 'headers'])];
      if (r.trailersOnly) {
        if (r.messages !== undefined) throw new StepError([...at, 'messages'], 'a trailers-only reply has no messages: it is one HEADERS frame with the status in it; drop messages or trailersOnly');
        return { op: 'h2-message', kind: 'grpc', headers: [...head, ...trailers], body: [], length: 0, trailers: undefined, endStream: r.endStream ?? true };
      }
      const body = mergeBuffers(grpcMessages(r.messages, [...at, 'messages']));
      return { op: 'h2-message', kind: 'grpc', headers: head, body, length: checkStepBytes(body, [...at, 'messages']), trailers, endStream: r.endStream ?? true };
    }
  }
  throw new StepError(at, `unknown HTTP/2 step "${name}"`);
}

function fields(p: Pairs | undefined): string {
  return p === undefined || p.length === 0 ? '(none)' : p.map(([n, v]) => `${n}: ${v}`).join(', ');
}

function onStream(stream: number | undefined): string {
  return stream === undefined ? "the request's stream" : `stream ${stream}`;
}

function settingName(id: number): string {
  for (const [n, v] of Object.entries(SETTING) as Array<[SettingName, number]>) if (v === id) return n;
  return `0x${id.toString(16)}`;
}

function frameName(type: number): string {
  for (const [n, v] of Object.entries(FRAME_TYPE) as Array<[FrameTypeName, number]>) if (v === type) return n;
  return `type 0x${type.toString(16)}`;
}

export function explainH2Step(step: H2Step, preview: (b: Bytes, length: number) => string): string {
  switch (step.op) {
    case 'h2-read': return step.what === 'request' ? 'read frames up to the next request (HEADERS on a new stream)' : "read the request's DATA frames to END_STREAM";
    case 'h2-settings': {
      const list = step.settings.length === 0 ? 'empty' : step.settings.map(([id, v]) => `${settingName(id)}=${v}`).join(', ');
      const notes = [step.ack ? "then ACK the client's SETTINGS" : "never ACK the client's SETTINGS", ...(step.windowUpdates ? [] : ['never WINDOW_UPDATE for what the client sends'])];
      return `write SETTINGS (${list}); ${notes.join('; ')}`;
    }
    case 'h2-headers': return `write HEADERS on ${onStream(step.stream)}${step.endHeaders ? '' : ' without END_HEADERS'}${step.endStream ? ' with END_STREAM' : ''}: ${fields(step.headers)}`;
    case 'h2-data': return `write ${step.length} bytes as DATA on ${onStream(step.stream)}${step.endStream ? ', END_STREAM on the last frame' : ', no END_STREAM'}${step.flowControl ? '' : ', ignoring flow control'}: ${preview(step.bytes, step.length)}`;
    case 'h2-rst-stream': return `write RST_STREAM ${errorCodeName(step.code)} on ${onStream(step.stream)}`;
    case 'h2-goaway': {
      const last = step.lastStreamId === 'current' ? "the request's stream" : step.lastStreamId === 'previous' ? "the stream before the request's (so the request was not processed)" : String(step.lastStreamId);
      return `write GOAWAY ${errorCodeName(step.code)}, last-stream-id ${last}${step.debug.length > 0 ? `, debug "${step.debug.toString('utf8')}"` : ''}`;
    }
    case 'h2-window-update': return `write WINDOW_UPDATE +${step.increment} on ${step.stream === 0 ? 'the connection' : onStream(step.stream)}`;
    case 'h2-frame': return `write one frame: ${frameName(step.type)}, flags 0x${step.flags.toString(16)}, ${step.stream === undefined ? "the request's stream" : `stream ${step.stream}`}, ${step.length} bytes of payload${step.declared === step.length ? '' : ` (declaring ${step.declared})`}`;
    case 'h2-message': {
      const what = step.kind === 'grpc' ? 'a gRPC reply' : 'a response';
      if (step.length === 0 && step.trailers === undefined) return `answer with ${what} in one HEADERS frame${step.endStream ? ' (END_STREAM)' : ', no END_STREAM'}: ${fields(step.headers)}`;
      return `answer with ${what}: HEADERS (${fields(step.headers)}), ${step.length} bytes of DATA ${preview(step.body, step.length)}${step.trailers === undefined ? '' : `, trailers (${fields(step.trailers)})`}${step.endStream ? '' : ', no END_STREAM'}`;
    }
  }
}
