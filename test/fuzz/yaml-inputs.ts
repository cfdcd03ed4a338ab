/**
 * Inputs for the loaders' fuzz tests: YAML documents made from a valid one by structural edits
 * (replace, delete, rename, wrap, share a node so it becomes an anchor and alias), written out in
 * a random YAML style, and then optionally damaged as text; plus YAML-flavoured noise.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';

type Path = ReadonlyArray<string | number>;

/** Values that sit on the edges of what the schemas accept. */
const EDGE_VALUES: unknown[] = [
  null, true, false, 0, -0, 1, -1, 1.5, 99, 100, 999, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e308, -1e308,
  Infinity, -Infinity, NaN, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1,
  '', ' ', '0', '-1', 'NaN', '\0', '\r\n', 'a'.repeat(300), 'head', 'body', 'close', 'reset', 'hang', 'half-close', 'websocket-accept',
  'healthy', 'slow-response', 'dns-nxdomain', 'connect-refused', 'no-response', 'no-status-line', 'complete', 'truncated', 'none',
  '>0', '>=3', '<1', '=2', '${delayMs}', '${nope}', '${constructor}', 'x${toString}', '${__proto__}', '${', '$${x}', 'x${delayMs}y', '/', '/a/b', 'GET', 'get', 'nginx', 'nginx@>=1.23', 'nginx@bad',
  [], {}, [null], { hex: 'zz' }, { hex: '0d0a' }, { repeat: 'ab', times: 3 }, { repeat: 'abcdefghij', times: 60_000_000 }, { repeat: '', times: 1e9 },
  { 'last-chunk': true }, { chunk: 'x' }, { head: { status: 200 } }, { head: { status: 1000 } }, { bytes: 0 }, { bytes: 3 },
  { data: 'x', intervalMs: 1 }, { idleMs: -5 }, { status: 204, body: 'x' }, { headers: [['a', 1]] }, { id: 'healthy' },
];

export const KEYS = [
  'id', 'summary', 'explain', 'params', 'steps', 'layer', 'faults', 'read', 'write', 'delay', 'dribble', 'respond', 'keep-alive',
  'close', 'bytes', 'data', 'chunkBytes', 'intervalMs', 'idleMs', 'status', 'reason', 'headers', 'body', 'chunked', 'hex', 'repeat',
  'times', 'head', 'chunk', 'last-chunk', 'version', 'description', 'fault', 'upstream', 'keepalive', 'request', 'method', 'path',
  'websocket', 'timeoutMs', 'sequence', 'count', 'spacingMs', 'concurrency', 'expect', 'tags', 'minMs', 'maxMs', 'counts', '502',
  'nginx', 'haproxy', 'caddy', 'apache', 'envoy', 'traefik', 'nginx@<1.23', 'delayMs', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
];

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
export const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_VALUES) },
  { weight: 2, arbitrary: scalar },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
export const key: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });

/** One structural edit, at the `pick`-th node of the document (in walk order, modulo their number). */
export interface Edit {
  readonly pick: number;
  readonly op: 'replace' | 'delete' | 'add-key' | 'rename-key' | 'wrap' | 'unwrap' | 'share' | 'push';
  readonly value: unknown;
  readonly key: string;
}
export const edit: fc.Arbitrary<Edit> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('replace', 'replace', 'delete', 'add-key', 'rename-key', 'wrap', 'unwrap', 'share', 'push'),
  value,
  key,
});

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An own property even for `__proto__`, which plain assignment would turn into a prototype change. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function nodes(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...at, i], out));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) nodes(x, [...at, k], out);
  return out;
}

function get(root: unknown, at: Path): unknown {
  let v = root;
  for (const k of at) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** A deep copy that keeps `__proto__` keys as own properties. */
function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) put(o, k, clone(x));
    return o;
  }
  return v;
}

export function applyEdits(doc: unknown, edits: readonly Edit[]): unknown {
  let root = clone(doc);
  for (const e of edits) {
    const all = nodes(root);
    const at = all[e.pick % all.length]!;
    const target = get(root, at);
    let next: unknown;
    switch (e.op) {
      case 'replace': next = clone(e.value); break;
      case 'wrap': next = [target]; break;
      case 'unwrap': next = (Array.isArray(target) ? target[0] : isObject(target) ? Object.values(target)[0] : target) ?? null; break;
      // The same object twice: the YAML writer makes it an anchor and an alias.
      case 'share': next = isObject(target) || Array.isArray(target) ? { [e.key]: target, [`${e.key}2`]: target } : target; break;
      case 'push': next = Array.isArray(target) ? [...target, clone(e.value)] : target; break;
      case 'add-key': {
        if (!isObject(target)) continue;
        put(target, e.key, clone(e.value));
        continue;
      }
      case 'rename-key':
      case 'delete': {
        if (at.length === 0) continue;
        const parent = get(root, at.slice(0, -1));
        const k = at[at.length - 1]!;
        if (Array.isArray(parent)) {
          if (e.op === 'delete') parent.splice(k as number, 1);
          continue;
        }
        const o = parent as Record<string, unknown>;
        const v = o[k as string];
        delete o[k as string];
        if (e.op === 'rename-key') put(o, e.key, v);
        continue;
      }
    }
    if (at.length === 0) root = next;
    else {
      const parent = get(root, at.slice(0, -1)) as Record<string | number, unknown>;
      const k = at[at.length - 1]!;
      if (Array.isArray(parent)) parent[k as number] = next;
      else put(parent as Record<string, unknown>, k as string, next);
    }
  }
  return root;
}

/** How to write a document: YAML has many spellings of the same data, and each has its own parser paths. */
const style = fc.record({
  indent: fc.constantFrom(2, 4),
  collectionStyle: fc.constantFrom('any' as const, 'block' as const, 'flow' as const),
  defaultStringType: fc.constantFrom('PLAIN' as const, 'QUOTE_DOUBLE' as const, 'QUOTE_SINGLE' as const, 'BLOCK_LITERAL' as const),
  defaultKeyType: fc.constantFrom(null, 'PLAIN' as const, 'QUOTE_DOUBLE' as const),
  lineWidth: fc.constantFrom(0, 20, 80),
});

export const YAML_FRAGMENTS = [
  '\n', '\n  ', '  ', '- ', ': ', ':', '? ', '{', '}', '[', ']', ',', '"', "'", '#', '&a ', '*a', '&b ', '*b', '!!str ', '!!int ', '!!binary ',
  '!!map ', '!custom ', '---\n', '...\n', '%YAML 1.2\n', '|\n', '>-\n', '\t', '\\', '\\x00', '\0', '\r', '\ufeff', '<<: *a\n', '~', 'null',
  '.inf', '-.inf', '.nan', '0x1F', '0o17', '1e400', '-0', 'yes', 'id: x\n', 'steps:\n', '- close\n', 'steps: [close]\n',
];

/** A document edited structurally, written in a random style, and sometimes damaged as text. */
export function documents(valid: readonly unknown[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(...valid),
      fc.array(edit, { maxLength: 5 }),
      style,
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...YAML_FRAGMENTS)), { maxLength: 3 }),
    )
    .map(([doc, edits, opts, damage]) => {
      let text = stringify(applyEdits(doc, edits), opts) ?? '';
      for (const [at, frag] of damage) {
        const p = at % (text.length + 1);
        text = text.slice(0, p) + frag + text.slice(p);
      }
      return text;
    });
}

/** Noise that once broke a loader: an alias to no anchor made the yaml library throw a ReferenceError. */
export const NOISE_EXAMPLES: Array<[string]> = [['<<: *a\n'], ['a: *x'], ['- *a\n- &a 1']];

/** YAML-flavoured noise: mostly not a valid document at all. */
export const yamlNoise: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...YAML_FRAGMENTS, ...KEYS.map((k) => `${k}: `)), fc.string({ maxLength: 6 })), { maxLength: 40 })
  .map((parts) => parts.join(''));

/**
 * What a loader may throw: an InputError whose message starts with file:line:col (a real position
 * in the text) and says something after it. Anything else (TypeError, RangeError, a plain Error
 * from a library) is a bug: the CLI would print "internal error" and a stack.
 */
export function expectInputError(err: unknown, file: string, text: string): void {
  if (!(err instanceof InputError)) throw err;
  const m = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+): \\S`).exec(err.message);
  expect(m, `an InputError (${err.code}) without ${file}:line:col: ${err.message}`).not.toBeNull();
  const lines = text.split(/\r\n|\r|\n/).length;
  expect(Number(m![1])).toBeGreaterThanOrEqual(1);
  expect(Number(m![1])).toBeLessThanOrEqual(lines + 1);
  expect(Number(m![2])).toBeGreaterThanOrEqual(1);
  expect(err.code).toMatch(/^BG_[A-Z_]+$/);
}

/** Fails when one synchronous run took long enough to count as a hang (generous: the machine is shared). */
export function timed<T>(limitMs: number, fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - start;
    expect(ms, `one input took ${Math.round(ms)} ms`).toBeLessThan(limitMs);
  }
}
