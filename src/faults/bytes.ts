/**
 * Bytes in the step language: what YAML says (BytesDef), their compiled form (Bytes: buffers,
 * and repeats generated as they are written), and the checks every protocol's steps share
 * (StepError, zodCheck, the per-step byte bound). Pure: no sockets here. steps.ts (HTTP) and
 * fcgi-steps.ts (FastCGI) both build on it, so neither needs the other's module.
 */
import { z } from 'zod';
import { buildHead, type HeadSpec } from '../wire/response.js';
import { encodeChunk, LAST_CHUNK } from '../wire/chunked.js';

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

/**
 * Bytes generated as they are written: `pattern` `times` over. A long repeat stays this
 * small object in the compiled fault (and in the upstream's cache) instead of its bytes.
 */
export interface Repeat {
  readonly pattern: Buffer;
  readonly times: number;
}
export type BytePart = Buffer | Repeat;
/** Compiled bytes: parts in order, adjacent buffers merged, so a plain write is one Buffer. */
export type Bytes = readonly BytePart[];

/** The most bytes one step may send (a write, a respond body, a dribble's data), repeats included: 1 GiB. Repeats are generated as they are written, never held. */
export const MAX_STEP_BYTES = 1024 * 1024 * 1024;
/** A repeat of at most this many bytes is built once when the fault compiles; a longer one is generated as it is written. */
const BUILD_REPEAT_UP_TO = 64 * 1024;

/** A validation problem at a path inside the document (the YAML loader turns the path into line:column). */
export class StepError extends Error {
  constructor(readonly path: ReadonlyArray<string | number>, message: string) {
    super(message);
  }
}

export const headersSchema = z.union([
  z.record(z.string(), z.union([z.string(), z.number()])),
  z.array(z.tuple([z.string(), z.union([z.string(), z.number()])])),
]);
const headSchema = z.strictObject({
  version: z.string().optional(),
  status: z.number().int().min(0).max(999),
  reason: z.string().optional(),
  headers: headersSchema.optional(),
});

export function zodCheck<T>(schema: z.ZodType<T>, value: unknown, path: Array<string | number>): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = [...path, ...(issue.path as Array<string | number>)];
  throw new StepError(where, issue.message);
}

/** Validate bytes as written in YAML and compile them; long repeats stay repeats (see Repeat). */
export function compileBytes(def: unknown, path: Array<string | number>): Bytes {
  const parts: BytePart[] = [];
  addBytes(def, path, parts);
  return mergeBuffers(parts);
}

function addBytes(def: unknown, path: Array<string | number>, out: BytePart[]): void {
  if (typeof def === 'string') return void out.push(Buffer.from(def, 'latin1'));
  if (typeof def === 'number') return void out.push(Buffer.from(String(def), 'latin1'));
  if (Array.isArray(def)) return def.forEach((d, i) => addBytes(d, [...path, i], out));
  if (def !== null && typeof def === 'object') {
    const keys = Object.keys(def);
    const o = def as Record<string, unknown>;
    if (keys.length === 1 && 'hex' in o) {
      const hex = String(o.hex).replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new StepError([...path, 'hex'], 'hex must be pairs of hex digits (spaces allowed)');
      return void out.push(Buffer.from(hex, 'hex'));
    }
    if ('repeat' in o) {
      const r = zodCheck(z.strictObject({ repeat: z.string(), times: z.number().int().min(0) }), def, path);
      const pattern = Buffer.from(r.repeat, 'latin1');
      const total = pattern.length * r.times;
      if (total > MAX_STEP_BYTES) {
        throw new StepError([...path, 'times'], `a step sends at most ${MAX_STEP_BYTES} bytes (1 GiB); this repeat makes ${pattern.length} × ${r.times} = ${total}`);
      }
      if (total === 0) return;
      // Built now when short (a header line of 64 KiB stays one write); generated at write time otherwise.
      return void out.push(total <= BUILD_REPEAT_UP_TO ? Buffer.alloc(total, pattern) : { pattern, times: r.times });
    }
    if (keys.length === 1 && 'head' in o) return void out.push(buildHead(zodCheck(headSchema, o.head, [...path, 'head']) as HeadSpec));
    if (keys.length === 1 && 'chunk' in o) return void out.push(...encodeChunkBytes(compileBytes(o.chunk, [...path, 'chunk'])));
    if (keys.length === 1 && 'last-chunk' in o) return void out.push(LAST_CHUNK);
  }
  throw new StepError(path, 'bytes must be a string, a list, or one of {hex}, {repeat, times}, {head}, {chunk}, {last-chunk: true}');
}

export const isRepeat = (p: BytePart): p is Repeat => (p as Partial<Repeat>).pattern !== undefined;

/** How many bytes `b` makes. */
export function bytesLength(b: Bytes): number {
  let n = 0;
  for (const p of b) n += isRepeat(p) ? p.pattern.length * p.times : p.length;
  return n;
}

/** How many bytes `b` holds in memory (a repeat holds its pattern only): what a compiled fault costs to keep. */
export function bytesHeld(b: Bytes): number {
  let n = 0;
  for (const p of b) n += isRepeat(p) ? p.pattern.length : p.length;
  return n;
}

/** The bytes from `offset`, at most `max` of them, as one Buffer (a view when they lie in one part). */
export function sliceBytes(b: Bytes, offset: number, max: number): Buffer {
  const pieces: Buffer[] = [];
  let want = max;
  let skip = offset;
  for (const p of b) {
    if (want === 0) break;
    const len = isRepeat(p) ? p.pattern.length * p.times : p.length;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const n = Math.min(want, len - skip);
    if (!isRepeat(p)) pieces.push(p.subarray(skip, skip + n));
    else {
      const start = skip % p.pattern.length;
      // The pattern rotated to its phase at `skip`, repeated by fill: one call, not one copy per pattern
      // (a one-byte pattern copied byte by byte made a 1 MiB FastCGI stream cost the event loop ~0.5 s).
      const phased = start === 0 ? p.pattern : Buffer.concat([p.pattern.subarray(start), p.pattern.subarray(0, start)]);
      pieces.push(Buffer.alloc(n, phased));
    }
    want -= n;
    skip = 0;
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** Adjacent buffers joined into one: a step made only of buffers is a single write. */
export function mergeBuffers(parts: readonly BytePart[]): Bytes {
  const out: BytePart[] = [];
  let run: Buffer[] = [];
  const flush = () => {
    if (run.length > 0) out.push(run.length === 1 ? run[0]! : Buffer.concat(run));
    run = [];
  };
  for (const p of parts) {
    if (Buffer.isBuffer(p)) {
      if (p.length > 0) run.push(p);
    } else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}

/** `bytes` as one chunk of the chunked coding (nothing for no bytes: a zero-size chunk would be the last one). */
export function encodeChunkBytes(bytes: Bytes): Bytes {
  const n = bytesLength(bytes);
  if (n === 0) return [];
  if (bytes.length === 1 && Buffer.isBuffer(bytes[0])) return [encodeChunk(bytes[0])];
  return [Buffer.from(`${n.toString(16)}\r\n`, 'latin1'), ...bytes, Buffer.from('\r\n', 'latin1')];
}

/** A step's bytes within MAX_STEP_BYTES, or a StepError at `path`. */
export function checkStepBytes(bytes: Bytes, path: Array<string | number>): number {
  const n = bytesLength(bytes);
  if (n > MAX_STEP_BYTES) throw new StepError(path, `a step sends at most ${MAX_STEP_BYTES} bytes (1 GiB); this one makes ${n}`);
  return n;
}
