/**
 * The step language: the definitions a user writes in YAML (serializable data)
 * and their compiled form that the executor runs. Pure: no sockets here.
 *
 * A script starts after the upstream has read the request head (it must, to
 * route by path or header). When a script ends with the connection still open,
 * the upstream reads the next request on it (keep-alive).
 */
import { z } from 'zod';
import { buildHead, hasHeader, headerPairs, type HeadSpec, type HeadersInput } from '../wire/response.js';
import { encodeChunk, LAST_CHUNK } from '../wire/chunked.js';
import { escapeBytes } from '../wire/escape.js';

/** A number, or a `${param}` placeholder resolved before the steps compile. */
export type Num = number | `\${${string}}`;

/** Bytes as written in YAML. YAML double-quoted strings already support \r \n \t \0 \xNN escapes. */
export type BytesDef =
  | string
  | { readonly hex: string }
  | { readonly repeat: string; readonly times: Num }
  | { readonly head: HeadSpec }
  | { readonly chunk: BytesDef }
  | { readonly 'last-chunk': true }
  | ReadonlyArray<BytesDef>;

export interface RespondDef {
  readonly status?: Num;
  readonly reason?: string;
  readonly headers?: HeadersInput;
  readonly body?: BytesDef;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  readonly chunked?: boolean;
}

export type StepDef =
  | 'close'
  | 'reset'
  | 'half-close'
  | 'hang'
  | 'websocket-accept'
  | { readonly read: 'head' | 'body' | { readonly bytes: Num } }
  | { readonly write: BytesDef }
  | { readonly delay: Num }
  | { readonly dribble: { readonly data: BytesDef; readonly chunkBytes?: Num; readonly intervalMs: Num } }
  | { readonly respond: RespondDef }
  | { readonly 'keep-alive': { readonly idleMs: Num } };

export type Step =
  | { readonly op: 'read-head' }
  | { readonly op: 'read-body' }
  | { readonly op: 'read-bytes'; readonly count: number }
  | { readonly op: 'write'; readonly bytes: Buffer }
  | { readonly op: 'delay'; readonly ms: number }
  | { readonly op: 'dribble'; readonly bytes: Buffer; readonly chunkBytes: number; readonly intervalMs: number }
  | { readonly op: 'close' }
  | { readonly op: 'reset' }
  | { readonly op: 'half-close' }
  | { readonly op: 'hang' }
  | { readonly op: 'websocket-accept' }
  | { readonly op: 'respond'; readonly keepAlive: Buffer; readonly close: Buffer; readonly http10KeepAlive: Buffer }
  | { readonly op: 'keep-alive'; readonly idleMs: number };

export const STEP_NAMES = ['read', 'write', 'delay', 'dribble', 'close', 'reset', 'half-close', 'hang', 'respond', 'keep-alive', 'websocket-accept'] as const;
const BARE_STEPS = new Set(['close', 'reset', 'half-close', 'hang', 'websocket-accept']);

/** A validation problem at a path inside the document (the YAML loader turns the path into line:column). */
export class StepError extends Error {
  constructor(readonly path: ReadonlyArray<string | number>, message: string) {
    super(message);
  }
}

const headersSchema = z.union([
  z.record(z.string(), z.union([z.string(), z.number()])),
  z.array(z.tuple([z.string(), z.union([z.string(), z.number()])])),
]);
const headSchema = z.strictObject({
  version: z.string().optional(),
  status: z.number().int().min(0).max(999),
  reason: z.string().optional(),
  headers: headersSchema.optional(),
});
const nonNegMs = z.number().finite().min(0);

function zodCheck<T>(schema: z.ZodType<T>, value: unknown, path: Array<string | number>): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = [...path, ...(issue.path as Array<string | number>)];
  throw new StepError(where, issue.message);
}

export function compileBytes(def: unknown, path: Array<string | number>): Buffer {
  if (typeof def === 'string') return Buffer.from(def, 'latin1');
  if (typeof def === 'number') return Buffer.from(String(def), 'latin1');
  if (Array.isArray(def)) return Buffer.concat(def.map((d, i) => compileBytes(d, [...path, i])));
  if (def !== null && typeof def === 'object') {
    const keys = Object.keys(def);
    const o = def as Record<string, unknown>;
    if (keys.length === 1 && 'hex' in o) {
      const hex = String(o.hex).replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new StepError([...path, 'hex'], 'hex must be pairs of hex digits (spaces allowed)');
      return Buffer.from(hex, 'hex');
    }
    if ('repeat' in o) {
      const r = zodCheck(z.strictObject({ repeat: z.string(), times: z.number().int().min(0).max(64 * 1024 * 1024) }), def, path);
      return Buffer.from(r.repeat.repeat(r.times), 'latin1');
    }
    if (keys.length === 1 && 'head' in o) return buildHead(zodCheck(headSchema, o.head, [...path, 'head']) as HeadSpec);
    if (keys.length === 1 && 'chunk' in o) return encodeChunk(compileBytes(o.chunk, [...path, 'chunk']));
    if (keys.length === 1 && 'last-chunk' in o) return LAST_CHUNK;
  }
  throw new StepError(path, 'bytes must be a string, a list, or one of {hex}, {repeat, times}, {head}, {chunk}, {last-chunk: true}');
}

const respondSchema = z.strictObject({
  status: z.number().int().min(100).max(999).optional(),
  reason: z.string().optional(),
  headers: headersSchema.optional(),
  body: z.unknown().optional(),
  chunked: z.boolean().optional(),
});

function buildRespond(def: z.infer<typeof respondSchema>, path: Array<string | number>): Step {
  const status = def.status ?? 200;
  const body = def.body === undefined ? Buffer.alloc(0) : compileBytes(def.body, [...path, 'body']);
  const base = [...headerPairs(def.headers)];
  if (def.chunked) {
    if (!hasHeader(def.headers, 'transfer-encoding')) base.push(['Transfer-Encoding', 'chunked']);
  } else if (!hasHeader(def.headers, 'content-length') && status >= 200 && status !== 204 && status !== 304) {
    base.push(['Content-Length', body.length]);
  }
  const payload = def.chunked ? Buffer.concat([encodeChunk(body), LAST_CHUNK]) : body;
  const variant = (conn: string | undefined) => {
    const headers = conn === undefined || hasHeader(def.headers, 'connection') ? base : [...base, ['Connection', conn] as const];
    return Buffer.concat([buildHead({ status, reason: def.reason, headers }), payload]);
  };
  return { op: 'respond', keepAlive: variant(undefined), close: variant('close'), http10KeepAlive: variant('keep-alive') };
}


/** Validate one step as written in YAML and compile it. */
export function compileStep(def: unknown, path: Array<string | number>): Step {
  if (typeof def === 'string') {
    if (BARE_STEPS.has(def)) return { op: def as 'close' | 'reset' | 'half-close' | 'hang' | 'websocket-accept' };
    throw new StepError(path, unknownStepMessage(def));
  }
  if (def === null || typeof def !== 'object' || Array.isArray(def)) {
    throw new StepError(path, 'a step is a name (close, reset, half-close, hang, websocket-accept) or a map with one key, e.g. {write: "..."}');
  }
  const keys = Object.keys(def);
  if (keys.length !== 1) throw new StepError(path, `a step has exactly one key, this one has ${keys.length}: ${keys.join(', ') || '(none)'}`);
  const name = keys[0]!;
  const arg = (def as Record<string, unknown>)[name];
  const at = [...path, name];
  switch (name) {
    case 'read': {
      if (arg === 'head') return { op: 'read-head' };
      if (arg === 'body') return { op: 'read-body' };
      const r = zodCheck(z.strictObject({ bytes: z.number().int().min(1) }), arg, at);
      return { op: 'read-bytes', count: r.bytes };
    }
    case 'write':
      return { op: 'write', bytes: compileBytes(arg, at) };
    case 'delay':
      return { op: 'delay', ms: zodCheck(nonNegMs, arg, at) };
    case 'dribble': {
      const r = zodCheck(
        z.strictObject({ data: z.unknown(), chunkBytes: z.number().int().min(1).optional(), intervalMs: nonNegMs }),
        arg,
        at,
      );
      if (r.data === undefined) throw new StepError([...at, 'data'], 'dribble needs data: the bytes to send slowly');
      return { op: 'dribble', bytes: compileBytes(r.data, [...at, 'data']), chunkBytes: r.chunkBytes ?? 1, intervalMs: r.intervalMs };
    }
    case 'respond':
      return buildRespond(zodCheck(respondSchema, arg ?? {}, at), at);
    case 'keep-alive': {
      const r = zodCheck(z.strictObject({ idleMs: nonNegMs }), arg, at);
      return { op: 'keep-alive', idleMs: r.idleMs };
    }
    case 'close':
    case 'reset':
    case 'half-close':
    case 'hang':
    case 'websocket-accept':
      if (arg === null || arg === true || (typeof arg === 'object' && Object.keys(arg as object).length === 0)) return { op: name };
      throw new StepError(at, `${name} takes no argument; write it as a bare name: - ${name}`);
    default:
      // At the step itself, whose position is where its (misspelt) name starts.
      throw new StepError(path, unknownStepMessage(name));
  }
}

function unknownStepMessage(name: string): string {
  return `unknown step "${name}"; steps are: ${STEP_NAMES.join(', ')}`;
}

export function compileSteps(defs: unknown, path: Array<string | number> = ['steps']): Step[] {
  if (!Array.isArray(defs) || defs.length === 0) throw new StepError(path, 'steps must be a non-empty list');
  return defs.map((d, i) => compileStep(d, [...path, i]));
}

/** One line of plain English per step, for `badgateway faults <id>` and the control API. */
export function explainStep(step: Step): string {
  switch (step.op) {
    case 'read-head': return 'read the next request head on this connection';
    case 'read-body': return 'read the request body (Content-Length or chunked)';
    case 'read-bytes': return `read ${step.count} more bytes`;
    case 'write': return `write ${step.bytes.length} bytes: ${preview(step.bytes)}`;
    case 'delay': return `wait ${step.ms} ms`;
    case 'dribble': return `write ${step.bytes.length} bytes, ${step.chunkBytes} every ${step.intervalMs} ms: ${preview(step.bytes)}`;
    case 'close': return 'close the connection (FIN)';
    case 'reset': return 'reset the connection (RST)';
    case 'half-close': return 'shut down the write side (FIN) and keep reading';
    case 'hang': return 'do nothing until the peer gives up or the upstream stops';
    case 'websocket-accept': return 'answer the WebSocket upgrade with a valid 101 (Sec-WebSocket-Accept computed from the key)';
    case 'respond': return `respond normally: ${preview(step.keepAlive.subarray(0, step.keepAlive.indexOf('\r\n')))}`;
    case 'keep-alive': return `keep the connection open for the next request; close it (FIN) after exactly ${step.idleMs} ms idle`;
  }
}

/** A printable preview of bytes, quoted. */
export function preview(bytes: Buffer, max = 60): string {
  return `"${escapeBytes(bytes, max).replace(/"/g, '\\"')}"`;
}
