/**
 * The FastCGI steps of the step language: what a fault with `protocol: fastcgi` writes as
 * records (the upstream frames them with the request's id at run time) and how it ends a
 * request. Pure: compiled here, run by src/faults/fcgi-exec.ts.
 */
import { z } from 'zod';
import { headerPairs, reasonPhrase, type HeadersInput } from '../wire/response.js';
import { MAX_CONTENT, PROTOCOL_STATUS_BY_NAME, TYPE, TYPE_BY_NAME, type ProtocolStatusName, type RecordTypeName } from '../fastcgi/records.js';
import { compileBytes, checkStepBytes, StepError, zodCheck, type Bytes } from './bytes.js';

/** What a fault speaks: HTTP/1 (the default), FastCGI, or HTTP/2 (h2c, and h2 over TLS; src/faults/h2-steps.ts). */
export type FaultProtocol = 'http' | 'fastcgi' | 'h2';

export type FcgiStepDef =
  | { readonly 'fcgi-read': 'request' }
  | { readonly 'fcgi-stdout': unknown }
  | { readonly 'fcgi-stderr': unknown }
  | { readonly 'fcgi-end': { readonly appStatus?: number | string; readonly protocolStatus?: number | string } }
  | { readonly 'fcgi-respond': { readonly status?: number | string; readonly reason?: string; readonly headers?: HeadersInput; readonly body?: unknown } }
  | {
      readonly 'fcgi-record': {
        readonly type: number | string;
        readonly version?: number | string;
        readonly requestId?: number | string;
        readonly content?: unknown;
        readonly contentLength?: number | string;
        readonly paddingLength?: number | string;
      };
    };

export type FcgiStep =
  /** Read the rest of the request: its STDIN up to the empty record (the upstream has read BEGIN_REQUEST and PARAMS to route it). */
  | { readonly op: 'fcgi-read' }
  /** STDOUT or STDERR records carrying `bytes` (none: one empty record, the end of the stream). */
  | { readonly op: 'fcgi-stream'; readonly type: 6 | 7; readonly bytes: Bytes; readonly length: number }
  | { readonly op: 'fcgi-end'; readonly appStatus: number; readonly protocolStatus: number }
  /** The healthy answer: CGI output in STDOUT, the empty STDOUT, END_REQUEST (0, complete); then close unless FCGI_KEEP_CONN. */
  | { readonly op: 'fcgi-respond'; readonly stdout: Bytes; readonly length: number }
  /** One record exactly as declared, however wrong; `requestId` undefined is the request's own. */
  | {
      readonly op: 'fcgi-record';
      readonly version: number;
      readonly type: number;
      readonly requestId: number | undefined;
      readonly content: Bytes;
      readonly length: number;
      readonly contentLength: number;
      readonly paddingLength: number;
    };

export const FCGI_STEP_NAMES = ['fcgi-read', 'fcgi-stdout', 'fcgi-stderr', 'fcgi-end', 'fcgi-respond', 'fcgi-record'] as const;
/** Steps that only make sense on HTTP: they read or write HTTP messages. */
export const HTTP_ONLY_STEPS = new Set(['respond', 'keep-alive', 'websocket-accept']);

const byte = z.number().int().min(0).max(255);
const u16 = z.number().int().min(0).max(0xffff);

function named<T extends string>(value: unknown, names: Readonly<Record<T, number>>, path: Array<string | number>, what: string, max: number): number {
  if (typeof value === 'string' && Object.hasOwn(names, value)) return names[value as T];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  throw new StepError(path, `${what} is a number from 0 to ${max} or one of ${Object.keys(names).join(', ')}`);
}

/** A FastCGI step as written in YAML, compiled; `name` is one of FCGI_STEP_NAMES. */
export function compileFcgiStep(name: string, arg: unknown, at: Array<string | number>): FcgiStep {
  switch (name) {
    case 'fcgi-read':
      if (arg === 'request') return { op: 'fcgi-read' };
      throw new StepError(at, 'fcgi-read reads the rest of the request (its STDIN to the empty record): write it as fcgi-read: request');
    case 'fcgi-stdout':
    case 'fcgi-stderr': {
      const bytes = arg === null || arg === undefined ? [] : compileBytes(arg, at);
      return { op: 'fcgi-stream', type: name === 'fcgi-stdout' ? TYPE.STDOUT : TYPE.STDERR, bytes, length: checkStepBytes(bytes, at) };
    }
    case 'fcgi-end': {
      const r = zodCheck(z.strictObject({ appStatus: z.number().int().min(0).max(0xffffffff).optional(), protocolStatus: z.unknown().optional() }), arg ?? {}, at);
      const protocolStatus = r.protocolStatus === undefined ? 0 : named<ProtocolStatusName>(r.protocolStatus, PROTOCOL_STATUS_BY_NAME, [...at, 'protocolStatus'], 'protocolStatus', 255);
      return { op: 'fcgi-end', appStatus: r.appStatus ?? 0, protocolStatus };
    }
    case 'fcgi-respond': {
      const r = zodCheck(
        z.strictObject({
          status: z.number().int().min(100).max(999).optional(),
          reason: z.string().optional(),
          headers: z.union([z.record(z.string(), z.union([z.string(), z.number()])), z.array(z.tuple([z.string(), z.union([z.string(), z.number()])]))]).optional(),
          body: z.unknown().optional(),
        }),
        arg ?? {},
        at,
      );
      // No Status line unless asked: a CGI script that sends none means 200, as PHP does for 200.
      let head = r.status === undefined ? '' : `Status: ${r.status} ${r.reason ?? reasonPhrase(r.status)}\r\n`;
      for (const [n, v] of headerPairs(r.headers)) head += `${n}: ${v}\r\n`;
      const body = r.body === undefined ? [] : compileBytes(r.body, [...at, 'body']);
      const stdout: Bytes = [Buffer.from(`${head}\r\n`, 'latin1'), ...body];
      return { op: 'fcgi-respond', stdout, length: checkStepBytes(stdout, [...at, 'body']) };
    }
    case 'fcgi-record': {
      const r = zodCheck(
        z.strictObject({ type: z.unknown(), version: byte.optional(), requestId: u16.optional(), content: z.unknown().optional(), contentLength: u16.optional(), paddingLength: byte.optional() }),
        arg,
        at,
      );
      if (r.type === undefined) throw new StepError([...at, 'type'], 'fcgi-record needs type: a number from 0 to 255 or a name such as stdout, end-request');
      const type = named<RecordTypeName>(r.type, TYPE_BY_NAME, [...at, 'type'], 'type', 255);
      const content = r.content === undefined ? [] : compileBytes(r.content, [...at, 'content']);
      const length = checkStepBytes(content, [...at, 'content']);
      if (r.contentLength === undefined && length > MAX_CONTENT) {
        throw new StepError([...at, 'content'], `a record holds at most ${MAX_CONTENT} bytes of content; this one has ${length} (say contentLength to declare another length than the data's)`);
      }
      return { op: 'fcgi-record', version: r.version ?? 1, type, requestId: r.requestId, content, length, contentLength: r.contentLength ?? length, paddingLength: r.paddingLength ?? 0 };
    }
  }
  throw new StepError(at, `unknown FastCGI step "${name}"`);
}

export function explainFcgiStep(step: FcgiStep, preview: (b: Bytes, length: number) => string): string {
  switch (step.op) {
    case 'fcgi-read': return 'read the rest of the FastCGI request: STDIN to its empty record';
    case 'fcgi-stream': {
      const what = step.type === TYPE.STDOUT ? 'STDOUT' : 'STDERR';
      return step.length === 0 ? `write an empty ${what} record (the end of ${what})` : `write ${step.length} bytes as ${what} records: ${preview(step.bytes, step.length)}`;
    }
    case 'fcgi-end': return `write END_REQUEST (appStatus ${step.appStatus}, protocolStatus ${step.protocolStatus}); then close unless the client asked FCGI_KEEP_CONN`;
    case 'fcgi-respond': return `answer normally: STDOUT ${preview(step.stdout, step.length)}, an empty STDOUT, END_REQUEST (0, complete); then close unless FCGI_KEEP_CONN`;
    case 'fcgi-record': {
      const id = step.requestId === undefined ? "the request's id" : `request id ${step.requestId}`;
      const declared = step.contentLength === step.length ? '' : ` (declaring ${step.contentLength})`;
      return `write one record: version ${step.version}, type ${step.type}, ${id}, ${step.length} bytes of content${declared}, padding ${step.paddingLength}`;
    }
  }
}
