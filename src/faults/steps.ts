/**
 * The step language: the definitions a user writes in YAML (serializable data)
 * and their compiled form that the executor runs. Pure: no sockets here.
 *
 * A script starts after the upstream has read the request head (it must, to
 * route by path or header). When a script ends with the connection still open,
 * the upstream reads the next request on it (keep-alive).
 */
import { z } from 'zod';
import { buildHead, hasHeader, headerPairs, type HeadersInput } from '../wire/response.js';
import { LAST_CHUNK } from '../wire/chunked.js';
import { escapeBytes } from '../wire/escape.js';
import { bytesHeld, checkStepBytes, compileBytes, encodeChunkBytes, headersSchema, mergeBuffers, sliceBytes, StepError, zodCheck, type Bytes, type BytesDef, type Num } from './bytes.js';
import { compileFcgiStep, explainFcgiStep, FCGI_STEP_NAMES, HTTP_ONLY_STEPS, type FaultProtocol, type FcgiStep, type FcgiStepDef } from './fcgi-steps.js';
import { compileH2Step, explainH2Step, H2_STEP_NAMES, type H2Step, type H2StepDef } from './h2-steps.js';

export { bytesHeld, bytesLength, checkStepBytes, compileBytes, isRepeat, MAX_STEP_BYTES, sliceBytes, StepError, zodCheck, type BytePart, type Bytes, type BytesDef, type Num, type Repeat } from './bytes.js';

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
  | { readonly 'keep-alive': { readonly idleMs: Num } }
  | FcgiStepDef
  | H2StepDef;


/**
 * The waits that `ignoresFin` applies to (delay, dribble, keep-alive idle) end when the peer
 * closes or resets, and also on its FIN unless the fault says it ignores the peer's FIN
 * (`ignoresPeer`, see ExchangeFaultDef).
 */
export type Step =
  | { readonly op: 'read-head' }
  | { readonly op: 'read-body' }
  | { readonly op: 'read-bytes'; readonly count: number }
  | { readonly op: 'write'; readonly bytes: Bytes; readonly length: number }
  | { readonly op: 'delay'; readonly ms: number; readonly ignoresFin: boolean }
  | { readonly op: 'dribble'; readonly bytes: Bytes; readonly length: number; readonly chunkBytes: number; readonly intervalMs: number; readonly ignoresFin: boolean }
  | { readonly op: 'close' }
  | { readonly op: 'reset' }
  | { readonly op: 'half-close' }
  | { readonly op: 'hang' }
  | { readonly op: 'websocket-accept' }
  | { readonly op: 'respond'; readonly keepAlive: Bytes; readonly close: Bytes; readonly http10KeepAlive: Bytes }
  | { readonly op: 'keep-alive'; readonly idleMs: number; readonly ignoresFin: boolean }
  | FcgiStep
  | H2Step;

/**
 * Limits on what a fault's parameters size, checked when the fault compiles (at load, and for
 * params from a request's query string, when the request is routed: then a 400). README's
 * "Fault parameters" limits list is written from these.
 */
/** The longest wait a step may ask for (delay, dribble interval and whole dribble, keep-alive idle): 24 h. Node fires a timer of more than 2^31-1 ms after 1 ms; this bound is far inside it. */
export const MAX_WAIT_MS = 24 * 60 * 60 * 1000;
/** The most bytes `read: {bytes: N}` may ask for: 1 GiB. They are counted and dropped, never held. */
export const MAX_READ_BYTES = 1024 * 1024 * 1024;
/** The largest piece a dribble writes at once (`chunkBytes`): 1 MiB. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

export const STEP_NAMES = ['read', 'write', 'delay', 'dribble', 'close', 'reset', 'half-close', 'hang', 'respond', 'keep-alive', 'websocket-accept', ...FCGI_STEP_NAMES, ...H2_STEP_NAMES] as const;
const BARE_STEPS = new Set(['close', 'reset', 'half-close', 'hang', 'websocket-accept']);


const waitMs = z
  .number()
  .finite()
  .min(0)
  .max(MAX_WAIT_MS, { message: `a wait is at most ${MAX_WAIT_MS} ms (24 h)` });
const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;


const respondSchema = z.strictObject({
  status: z.number().int().min(100).max(999).optional(),
  reason: z.string().optional(),
  headers: headersSchema.optional(),
  body: z.unknown().optional(),
  chunked: z.boolean().optional(),
});

function buildRespond(def: z.infer<typeof respondSchema>, path: Array<string | number>): Step {
  const status = def.status ?? 200;
  const body = def.body === undefined ? [] : compileBytes(def.body, [...path, 'body']);
  const length = checkStepBytes(body, [...path, 'body']);
  const base = [...headerPairs(def.headers)];
  if (def.chunked) {
    if (!hasHeader(def.headers, 'transfer-encoding')) base.push(['Transfer-Encoding', 'chunked']);
  } else if (!hasHeader(def.headers, 'content-length') && status >= 200 && status !== 204 && status !== 304) {
    base.push(['Content-Length', length]);
  }
  const payload = def.chunked ? [...encodeChunkBytes(body), LAST_CHUNK] : body;
  const variant = (conn: string | undefined) => {
    const headers = conn === undefined || hasHeader(def.headers, 'connection') ? base : [...base, ['Connection', conn] as const];
    return mergeBuffers([buildHead({ status, reason: def.reason, headers }), ...payload]);
  };
  return { op: 'respond', keepAlive: variant(undefined), close: variant('close'), http10KeepAlive: variant('keep-alive') };
}

/** How a fault's steps compile. */
export interface CompileOptions {
  /** The fault ignores the peer's FIN in its timed waits (ExchangeFaultDef.ignoresPeer). */
  readonly ignoresPeer?: boolean;
  /** What the fault speaks (ExchangeFaultDef.protocol); a step of the other protocol is refused. Default http. */
  readonly protocol?: FaultProtocol;
}

/** Why a step cannot run in a fault of `protocol`, or undefined when it can. */
function wrongProtocol(name: string, arg: unknown, protocol: FaultProtocol): string | undefined {
  const fcgi = (FCGI_STEP_NAMES as readonly string[]).includes(name);
  const h2 = (H2_STEP_NAMES as readonly string[]).includes(name);
  const httpOnly = HTTP_ONLY_STEPS.has(name) || (name === 'read' && (arg === 'head' || arg === 'body'));
  if (protocol === 'http' && fcgi) return `${name} is a FastCGI step; this fault speaks HTTP. Add \`protocol: fastcgi\` to the fault to write FastCGI records`;
  if (protocol !== 'h2' && h2) return `${name} is an HTTP/2 step; this fault speaks ${protocol === 'http' ? 'HTTP/1' : 'FastCGI'}. Add \`protocol: h2\` to the fault to write HTTP/2 frames`;
  if (protocol === 'fastcgi' && httpOnly) {
    return `${name === 'read' ? `read: ${String(arg)}` : name} is an HTTP step; this fault speaks FastCGI (protocol: fastcgi). Use fcgi-read, fcgi-respond, fcgi-stdout, fcgi-end, or the raw steps (write, delay, close, reset, hang)`;
  }
  if (protocol === 'h2' && (httpOnly || fcgi)) {
    return `${name === 'read' ? `read: ${String(arg)}` : name} is ${fcgi ? 'a FastCGI' : 'an HTTP/1'} step; this fault speaks HTTP/2 (protocol: h2). Use h2-read, h2-respond, grpc-reply, h2-settings, h2-headers, h2-data, h2-rst-stream, h2-goaway, h2-frame, or the raw steps (write, delay, close, reset, hang)`;
  }
  return undefined;
}

/** Validate one step as written in YAML and compile it. */
export function compileStep(def: unknown, path: Array<string | number>, opts: CompileOptions = {}): Step {
  const ignoresFin = opts.ignoresPeer === true;
  if (typeof def === 'string') {
    const wrong = wrongProtocol(def, undefined, opts.protocol ?? 'http');
    if (wrong !== undefined && BARE_STEPS.has(def)) throw new StepError(path, wrong);
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
  const wrong = wrongProtocol(name, arg, opts.protocol ?? 'http');
  if (wrong !== undefined) throw new StepError(path, wrong);
  if ((FCGI_STEP_NAMES as readonly string[]).includes(name)) return compileFcgiStep(name, arg, at);
  if ((H2_STEP_NAMES as readonly string[]).includes(name)) return compileH2Step(name, arg, at);
  switch (name) {
    case 'read': {
      if (arg === 'head') return { op: 'read-head' };
      if (arg === 'body') return { op: 'read-body' };
      const r = zodCheck(
        z.strictObject({ bytes: z.number().int().min(1).max(MAX_READ_BYTES, { message: `read: bytes is at most ${MAX_READ_BYTES} (1 GiB)` }) }),
        arg,
        at,
      );
      return { op: 'read-bytes', count: r.bytes };
    }
    case 'write': {
      const bytes = compileBytes(arg, at);
      return { op: 'write', bytes, length: checkStepBytes(bytes, at) };
    }
    case 'delay':
      return { op: 'delay', ms: zodCheck(waitMs, arg, at), ignoresFin };
    case 'dribble': {
      const r = zodCheck(
        z.strictObject({
          data: z.unknown(),
          chunkBytes: z.number().int().min(1).max(MAX_CHUNK_BYTES, { message: `chunkBytes is at most ${MAX_CHUNK_BYTES} (1 MiB)` }).optional(),
          intervalMs: waitMs,
        }),
        arg,
        at,
      );
      if (r.data === undefined) throw new StepError([...at, 'data'], 'dribble needs data: the bytes to send slowly');
      const bytes = compileBytes(r.data, [...at, 'data']);
      const length = checkStepBytes(bytes, [...at, 'data']);
      const chunkBytes = r.chunkBytes ?? 1;
      // The whole dribble is a wait too: its pieces after the first, one interval apart.
      const totalMs = Math.max(0, Math.ceil(length / chunkBytes) - 1) * r.intervalMs;
      if (totalMs > MAX_WAIT_MS) {
        throw new StepError(at, `a dribble lasts at most ${MAX_WAIT_MS} ms (24 h); this one sends ${length} bytes, ${chunkBytes} every ${r.intervalMs} ms: ${hours(totalMs)}`);
      }
      return { op: 'dribble', bytes, length, chunkBytes, intervalMs: r.intervalMs, ignoresFin };
    }
    case 'respond':
      return buildRespond(zodCheck(respondSchema, arg ?? {}, at), at);
    case 'keep-alive': {
      const r = zodCheck(z.strictObject({ idleMs: waitMs }), arg, at);
      return { op: 'keep-alive', idleMs: r.idleMs, ignoresFin };
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

export function compileSteps(defs: unknown, path: Array<string | number> = ['steps'], opts: CompileOptions = {}): Step[] {
  if (!Array.isArray(defs) || defs.length === 0) throw new StepError(path, 'steps must be a non-empty list');
  return defs.map((d, i) => compileStep(d, [...path, i], opts));
}

/** What a compiled script holds in memory, in bytes: the upstream's cache of compiled faults is bounded by it. */
export function stepsHeld(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) {
    if (s.op === 'write' || s.op === 'dribble' || s.op === 'fcgi-stream') n += bytesHeld(s.bytes);
    else if (s.op === 'fcgi-respond') n += bytesHeld(s.stdout);
    else if (s.op === 'fcgi-record') n += bytesHeld(s.content);
    else if (s.op === 'h2-data') n += bytesHeld(s.bytes);
    else if (s.op === 'h2-frame') n += bytesHeld(s.payload);
    else if (s.op === 'h2-message') n += bytesHeld(s.body);
    else if (s.op === 'respond') n += bytesHeld(s.keepAlive) + bytesHeld(s.close) + bytesHeld(s.http10KeepAlive);
  }
  return n;
}

/** One line of plain English per step, for `badgateway faults <id>` and the control API. */
export function explainStep(step: Step): string {
  switch (step.op) {
    case 'read-head': return 'read the next request head on this connection';
    case 'read-body': return 'read the request body (Content-Length or chunked)';
    case 'read-bytes': return `read ${step.count} more bytes`;
    case 'write': return `write ${step.length} bytes: ${previewBytes(step.bytes, step.length)}`;
    case 'delay': return `wait ${step.ms} ms${untilFin(step.ignoresFin)}`;
    case 'dribble': return `write ${step.length} bytes, ${step.chunkBytes} every ${step.intervalMs} ms${untilFin(step.ignoresFin)}: ${previewBytes(step.bytes, step.length)}`;
    case 'close': return 'close the connection (FIN)';
    case 'reset': return 'reset the connection (RST)';
    case 'half-close': return 'shut down the write side (FIN) and keep reading';
    case 'hang': return 'do nothing until the peer gives up or the upstream stops';
    case 'websocket-accept': return 'answer the WebSocket upgrade with a valid 101 (Sec-WebSocket-Accept computed from the key)';
    case 'respond': {
      const start = sliceBytes(step.keepAlive, 0, 200);
      return `respond normally: ${preview(start.subarray(0, start.indexOf('\r\n')))}`;
    }
    case 'keep-alive': return `keep the connection open for the next request; close it (FIN) after exactly ${step.idleMs} ms idle${step.ignoresFin ? ', even after the peer\'s FIN' : ''}`;
    case 'h2-read':
    case 'h2-settings':
    case 'h2-headers':
    case 'h2-data':
    case 'h2-rst-stream':
    case 'h2-goaway':
    case 'h2-window-update':
    case 'h2-frame':
    case 'h2-message':
      return explainH2Step(step, previewBytes);
    default: return explainFcgiStep(step, previewBytes);
  }
}

/** Said of a timed wait: what ends it early. */
function untilFin(ignoresFin: boolean): string {
  return ignoresFin ? ' (a FIN from the peer does not end it; a reset does)' : '';
}

/** preview() of bytes that may be generated: only the first `max` are built. */
function previewBytes(b: Bytes, length: number, max = 60): string {
  const shown = escapeBytes(sliceBytes(b, 0, Math.min(length, max)), max);
  return `"${(length > max ? `${shown}… (+${length - max} bytes)` : shown).replace(/"/g, '\\"')}"`;
}

/** A printable preview of bytes, quoted. */
export function preview(bytes: Buffer, max = 60): string {
  return `"${escapeBytes(bytes, max).replace(/"/g, '\\"')}"`;
}
