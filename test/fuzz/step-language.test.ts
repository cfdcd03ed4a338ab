/**
 * Fuzz: the step-language loader (src/faults/registry.ts loadFaultText, src/faults/steps.ts
 * compileSteps). Whatever a fault file says, the loader returns faults that compile, or throws an
 * InputError that names file:line:col; never a TypeError, a RangeError or a library's own error,
 * and never takes seconds.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { InputError } from '../../src/errors.js';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import type { ExchangeFaultDef, FaultDef } from '../../src/faults/fault.js';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import {
  bytesLength,
  compileSteps,
  explainStep,
  MAX_CHUNK_BYTES,
  MAX_READ_BYTES,
  MAX_STEP_BYTES,
  MAX_WAIT_MS,
  sliceBytes,
  StepError,
  type Bytes,
  type Step,
} from '../../src/faults/steps.js';
import { fuzz, timeout } from './settings.js';
import { documents, expectInputError, NOISE_EXAMPLES, timed, value, yamlNoise } from './yaml-inputs.js';

const FILE = 'fuzz-faults.yaml';
/** Generous: loading one small file takes milliseconds, but the machine is shared. */
const HANG_MS = 3000;

/** Every built-in exchange fault as a user would write it, one per file and all in one `faults:` list. */
const exchange = BUILTIN_FAULTS.filter((f): f is ExchangeFaultDef => f.layer === 'exchange').map(({ id, summary, params, steps, protocol }) => ({
  id: `my-${id}`,
  summary,
  ...(protocol ? { protocol } : {}),
  ...(params ? { params } : {}),
  steps,
}));
const validDocs: unknown[] = [...exchange, { faults: exchange.slice(0, 4) }];

const OPS = new Set(['read-head', 'read-body', 'read-bytes', 'write', 'delay', 'dribble', 'close', 'reset', 'half-close', 'hang', 'websocket-accept', 'respond', 'keep-alive', 'fcgi-read', 'fcgi-stream', 'fcgi-end', 'fcgi-respond', 'fcgi-record', 'h2-read', 'h2-settings', 'h2-headers', 'h2-data', 'h2-rst-stream', 'h2-goaway', 'h2-window-update', 'h2-frame', 'h2-message']);

/** What the executor relies on in a compiled step, within the limits the step language documents. */
function checkStep(s: Step): void {
  expect(OPS.has(s.op), s.op).toBe(true);
  const waitOk = (ms: number) => Number.isFinite(ms) && ms >= 0 && ms <= MAX_WAIT_MS;
  const bytesOk = (b: Bytes, length: number) => {
    expect(bytesLength(b)).toBe(length);
    expect(length).toBeLessThanOrEqual(MAX_STEP_BYTES);
    // A placeholder must come from the fault's params, never from Object.prototype (`${toString}`).
    expect(sliceBytes(b, 0, Math.min(length, 64 * 1024)).includes('[native code]')).toBe(false);
  };
  switch (s.op) {
    case 'read-bytes': expect(Number.isSafeInteger(s.count) && s.count >= 1 && s.count <= MAX_READ_BYTES).toBe(true); break;
    case 'delay': expect(waitOk(s.ms)).toBe(true); break;
    case 'keep-alive': expect(waitOk(s.idleMs)).toBe(true); break;
    case 'dribble':
      expect(Number.isSafeInteger(s.chunkBytes) && s.chunkBytes >= 1 && s.chunkBytes <= MAX_CHUNK_BYTES).toBe(true);
      expect(waitOk(s.intervalMs)).toBe(true);
      bytesOk(s.bytes, s.length);
      break;
    case 'write': bytesOk(s.bytes, s.length); break;
    case 'fcgi-stream': bytesOk(s.bytes, s.length); break;
    case 'fcgi-respond': bytesOk(s.stdout, s.length); break;
    case 'fcgi-record':
      bytesOk(s.content, s.length);
      expect(s.contentLength >= 0 && s.contentLength <= 0xffff && s.paddingLength >= 0 && s.paddingLength <= 255).toBe(true);
      break;
    case 'respond':
      for (const b of [s.keepAlive, s.close, s.http10KeepAlive]) expect(sliceBytes(b, 0, 9).toString('latin1')).toBe('HTTP/1.1 ');
      break;
    case 'h2-data': bytesOk(s.bytes, s.length); break;
    case 'h2-message': bytesOk(s.body, s.length); break;
    case 'h2-frame':
      bytesOk(s.payload, s.length);
      expect(s.declared >= 0 && s.declared <= 0xffffff && s.type >= 0 && s.type <= 255).toBe(true);
      break;
    default:
  }
  expect(explainStep(s)).toMatch(/\S/);
}

function load(text: string): void {
  timed(HANG_MS, () => {
    let defs: FaultDef[];
    try {
      defs = loadFaultText(text, FILE);
    } catch (err) {
      expectInputError(err, FILE, text);
      return;
    }
    // What loaded must run: the upstream compiles it again with its defaults.
    const catalogue = new Catalogue(defs);
    for (const d of defs) {
      expect(d.layer).toBe('exchange');
      expect(d.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      catalogue.compile(d.id).steps.forEach(checkStep);
    }
  });
}

/** A step as a user might write one: the right names with arbitrary arguments, or anything at all. */
const stepish = fc.oneof(
  fc.constantFrom('close', 'reset', 'half-close', 'hang', 'websocket-accept', 'clsoe', 'read', ''),
  fc.tuple(fc.constantFrom('read', 'write', 'delay', 'dribble', 'respond', 'keep-alive', 'close', 'hang', 'nope'), value).map(([k, v]) => ({ [k]: v })),
  fc.record({ dribble: fc.record({ data: value, chunkBytes: value, intervalMs: value }, { requiredKeys: [] }) }),
  fc.record({ respond: fc.record({ status: value, reason: value, headers: value, body: value, chunked: value }, { requiredKeys: [] }) }),
  value,
);

const paramName = fc.oneof(
  fc.constantFrom('a', 'b', 'delayMs', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'),
  fc.stringMatching(/^[A-Za-z_][\w-]{0,6}$/),
);
const paramValue = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.string({ unit: fc.constantFrom(...'abc xyz-_/:'), maxLength: 5 }));
const literal = fc.string({ unit: fc.constantFrom(...'abc {}\\"\'\r\n\0#:-'), maxLength: 6 });
/** Params as own properties, `__proto__` included (an object literal would set the prototype instead). */
const paramsObject = fc.array(fc.tuple(paramName, paramValue), { maxLength: 4 }).map((entries) => {
  const o: Record<string, string | number> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
});

describe('fuzz: fault files', () => {
  test(
    '${param} placeholders: substituted from the declared params only, anything else is an unknown parameter',
    () => {
      fc.assert(
        fc.property(
          paramsObject,
          fc.array(fc.oneof(literal, paramName.map((ref) => ({ ref }))), { minLength: 1, maxLength: 5 }),
          paramsObject,
          (params, parts, overrides) => {
            const template = parts.map((p) => (typeof p === 'string' ? p : `\${${p.ref}}`)).join('');
            // Double-quoted: the yaml library writes ' \n' as a block scalar that reads back as '\n'.
            const text = stringify({ id: 'templated', params, steps: [{ write: template }] }, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
            const declared = (n: string) => Object.prototype.hasOwnProperty.call(params, n);
            const refs = parts.flatMap((p) => (typeof p === 'string' ? [] : [p.ref]));
            let defs: FaultDef[];
            try {
              defs = loadFaultText(text, FILE);
            } catch (err) {
              expectInputError(err, FILE, text);
              expect(refs.every(declared), `refused although every placeholder is declared: ${(err as Error).message}`).toBe(false);
              expect((err as Error).message).toContain('unknown parameter');
              return;
            }
            expect(refs.every(declared), `loaded with an undeclared placeholder in ${JSON.stringify(template)}`).toBe(true);
            const catalogue = new Catalogue(defs);
            const want = parts.map((p) => (typeof p === 'string' ? p : String(params[p.ref]))).join('');
            const step = catalogue.compile('templated').steps[0]!;
            expect(step.op).toBe('write');
            if (step.op === 'write') expect(sliceBytes(step.bytes, 0, step.length).toString('latin1')).toBe(want);
            // Overrides at request time (query string, control API): only declared names.
            const undeclared = Object.keys(overrides).filter((k) => !declared(k));
            try {
              catalogue.compile('templated', overrides);
              expect(undeclared, 'an override the fault does not declare was accepted').toEqual([]);
            } catch (err) {
              expect(err).toBeInstanceOf(InputError);
              expect(undeclared.length, (err as Error).message).toBeGreaterThan(0);
            }
          },
        ),
        // Names Object.prototype has: they resolved to its functions instead of "unknown parameter".
        fuzz<[Record<string, string | number>, Array<string | { ref: string }>, Record<string, string | number>]>(600, [
          [{}, [{ ref: 'valueOf' }], {}],
          [{ a: 1 }, ['x', { ref: 'toString' }], {}],
          [{ a: 1 }, [{ ref: 'a' }], { constructor: 1 }],
        ]),
      );
    },
    timeout(20_000),
  );

  test(
    'built-in faults, edited and rewritten as YAML: they load and compile, or fail with file:line:col',
    () => {
      fc.assert(fc.property(documents(validDocs), load), fuzz(800));
    },
    timeout(30_000),
  );

  test(
    'YAML-flavoured noise: loads, or an InputError with file:line:col',
    () => {
      fc.assert(fc.property(yamlNoise, load), fuzz(1500, NOISE_EXAMPLES));
    },
    timeout(20_000),
  );

  test(
    'compileSteps on arbitrary values: steps the executor can run, or a StepError with a path into the input',
    () => {
      fc.assert(
        fc.property(fc.oneof(fc.array(stepish, { maxLength: 6 }), fc.anything()), (defs) =>
          timed(HANG_MS, () => {
            let steps: Step[];
            try {
              steps = compileSteps(defs);
            } catch (err) {
              if (!(err instanceof StepError)) throw err;
              expect(err.path[0]).toBe('steps');
              for (const p of err.path) expect(typeof p === 'string' || typeof p === 'number').toBe(true);
              expect(err.message).toMatch(/\S/);
              return;
            }
            expect(steps.length).toBeGreaterThan(0);
            steps.forEach(checkStep);
          }),
        ),
        // 600 MB from a repeat: V8's string length limit once made it a RangeError.
        fuzz<[unknown]>(3000, [[[{ write: { repeat: 'abcdefghij', times: 60_000_000 } }]]]),
      );
    },
    timeout(20_000),
  );
});
