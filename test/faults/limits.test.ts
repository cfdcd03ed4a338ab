/**
 * Every parameter that sizes memory or time has a maximum, checked when the fault compiles: a
 * custom fault over it fails to load with file:line:column and the limit, a value from a
 * parameter names the parameter, and bytes that are only repeated are never built.
 */
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { compileFault, type ExchangeFaultDef } from '../../src/faults/fault.js';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import { MAX_CHUNK_BYTES, MAX_READ_BYTES, MAX_STEP_BYTES, MAX_WAIT_MS, bytesLength, sliceBytes, stepsHeld, type Step } from '../../src/faults/steps.js';

const P = (name: string) => '$' + `{${name}}`;
/** Node fires a timer of more than this many ms after 1 ms. */
const NODE_TIMER_MAX = 2 ** 31 - 1;

/** The message a fault file gets, or '' when it loads. */
function loadError(yaml: string): string {
  try {
    loadFaultText(yaml, 'f.yaml');
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('BG_INVALID_FAULT');
    return (err as Error).message;
  }
}

const fault = (steps: string, params = '') => `id: f\n${params}steps:\n${steps}`;

describe('documented maxima, checked at load with the step position', () => {
  test('the limits are what README says, and far inside Node timer range', () => {
    expect(MAX_WAIT_MS).toBe(86_400_000);
    expect(MAX_WAIT_MS).toBeLessThan(NODE_TIMER_MAX);
    expect([MAX_STEP_BYTES, MAX_READ_BYTES, MAX_CHUNK_BYTES]).toEqual([2 ** 30, 2 ** 30, 2 ** 20]);
  });

  test.each([
    ['delay', `  - delay: ${NODE_TIMER_MAX + 1}\n`, 'f.yaml:3:12: a wait is at most 86400000 ms (24 h)'],
    ['delay just over 24 h', `  - delay: ${MAX_WAIT_MS + 1}\n`, 'f.yaml:3:12: a wait is at most 86400000 ms (24 h)'],
    ['keep-alive idleMs', `  - respond: {}\n  - keep-alive: { idleMs: ${NODE_TIMER_MAX + 1} }\n`, 'f.yaml:4:27: a wait is at most 86400000 ms (24 h)'],
    ['dribble intervalMs', `  - dribble: { data: "ab", intervalMs: 1e12 }\n`, 'f.yaml:3:40: a wait is at most 86400000 ms (24 h)'],
    [
      'a dribble longer than 24 h in all',
      `  - dribble: { data: { repeat: "a", times: 100000 }, intervalMs: 1000 }\n`,
      'f.yaml:3:14: a dribble lasts at most 86400000 ms (24 h); this one sends 100000 bytes, 1 every 1000 ms: 27.8 h',
    ],
    ['dribble chunkBytes', `  - dribble: { data: "ab", chunkBytes: ${2 ** 20 + 1}, intervalMs: 1 }\n`, 'f.yaml:3:40: chunkBytes is at most 1048576 (1 MiB)'],
    ['read bytes', `  - read: { bytes: ${2 ** 30 + 1} }\n`, 'f.yaml:3:20: read: bytes is at most 1073741824 (1 GiB)'],
    ['a repeat', `  - write: { repeat: "ab", times: ${2 ** 29 + 1} }\n`, 'f.yaml:3:35: a step sends at most 1073741824 bytes (1 GiB); this repeat makes 2 × 536870913 = 1073741826'],
    [
      'a write of two repeats',
      `  - write: [{ repeat: "a", times: ${2 ** 29} }, { repeat: "b", times: ${2 ** 29 + 1} }]\n`,
      'f.yaml:3:12: a step sends at most 1073741824 bytes (1 GiB); this one makes 1073741825',
    ],
    ['a respond body', `  - respond: { body: [{ repeat: "a", times: ${2 ** 30} }, "!"] }\n`, 'f.yaml:3:22: a step sends at most 1073741824 bytes (1 GiB); this one makes 1073741825'],
  ])('%s', (_what, steps, message) => {
    expect(loadError(fault(steps))).toBe(message);
  });

  test('at the limits, every one compiles', () => {
    const steps = [
      `  - read: { bytes: ${2 ** 30} }`,
      `  - delay: ${MAX_WAIT_MS}`,
      `  - write: { repeat: "a", times: ${2 ** 30} }`,
      `  - dribble: { data: { repeat: "ab", times: 2 }, chunkBytes: ${2 ** 20}, intervalMs: ${MAX_WAIT_MS} }`,
      `  - keep-alive: { idleMs: ${MAX_WAIT_MS} }`,
    ];
    expect(loadError(fault(steps.join('\n') + '\n'))).toBe('');
  });

  test('a default over the limit names its parameter', () => {
    expect(loadError(fault(`  - delay: ${P('waitMs')}\n`, `params: { waitMs: ${NODE_TIMER_MAX + 1} }\n`))).toBe(
      'f.yaml:4:12: parameter waitMs=2147483648: a wait is at most 86400000 ms (24 h)',
    );
    expect(loadError(fault(`  - write: { repeat: "a", times: "${P('n')}" }\n`, `params: { n: ${2 ** 31} }\n`))).toBe(
      'f.yaml:4:34: parameter n=2147483648: a step sends at most 1073741824 bytes (1 GiB); this repeat makes 1 × 2147483648 = 2147483648',
    );
  });

  test('a value written in the file names no parameter, even beside one', () => {
    expect(loadError(fault(`  - dribble: { data: "${P('d')}", intervalMs: 1e12 }\n`, `params: { d: ab }\n`))).toBe('f.yaml:4:42: a wait is at most 86400000 ms (24 h)');
  });

  test('a param override out of range: BG_INVALID_FAULT naming the parameter (what the upstream answers 400 with)', () => {
    const catalogue = new Catalogue();
    expect(() => catalogue.compile('slow-response', { delayMs: NODE_TIMER_MAX + 1 })).toThrow(
      'fault slow-response: steps.1.delay: parameter delayMs=2147483648: a wait is at most 86400000 ms (24 h)',
    );
    expect(() => catalogue.compile('slow-body', { intervalMs: 'soon' })).toThrow(/^fault slow-body: steps\.2\.dribble\.intervalMs: parameter intervalMs=soon: /);
    expect(() => catalogue.compile('keepalive-idle-close', { idleMs: 1e10 })).toThrow('parameter idleMs=10000000000: a wait is at most 86400000 ms (24 h)');
  });
});

describe('repeated bytes are generated, not built', () => {
  const def: ExchangeFaultDef = {
    id: 'big',
    layer: 'exchange',
    summary: 'test',
    explain: 'test',
    params: { n: 1 },
    steps: [{ write: ['head:', { repeat: 'abc', times: '${n}' }, ':tail'] }, { respond: { body: { repeat: 'x', times: '${n}' } } }, { dribble: { data: { repeat: 'yz', times: '${n}' }, intervalMs: 0 } }],
  };

  test('a gigabyte of repeats holds a few bytes (before, 64 MiB was the most a repeat could make, all of it built)', () => {
    const n = 2 ** 30 / 3 - 10;
    const c = compileFault(def, { n: Math.floor(n) });
    expect(stepsHeld(c.steps)).toBeLessThan(1024);
    const write = c.steps[0] as Extract<Step, { op: 'write' }>;
    expect(write.length).toBe(5 + 3 * Math.floor(n) + 5);
    expect(bytesLength(write.bytes)).toBe(write.length);
    // Any slice is the bytes the repeat spells, at any phase of the pattern.
    expect(sliceBytes(write.bytes, 0, 10).toString()).toBe('head:abcab');
    expect(sliceBytes(write.bytes, 6, 7).toString()).toBe('bcabcab');
    expect(sliceBytes(write.bytes, write.length - 7, 100).toString()).toBe('bc:tail');
    const respond = c.steps[1] as Extract<Step, { op: 'respond' }>;
    expect(sliceBytes(respond.close, 0, 200).toString()).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Length: 357913931\r\nConnection: close\r\n\r\nxxx/);
  });

  test('short repeats are built once, so the common write stays one buffer', () => {
    const c = compileFault(def, { n: 100 });
    const write = c.steps[0] as Extract<Step, { op: 'write' }>;
    expect(write.bytes).toHaveLength(1);
    expect(Buffer.isBuffer(write.bytes[0])).toBe(true);
    expect(write.bytes[0]!.toString()).toBe(`head:${'abc'.repeat(100)}:tail`);
  });
});
