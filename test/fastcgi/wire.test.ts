/**
 * Every built-in FastCGI fault on the wire, through the real upstream over TCP and a unix socket:
 * the exact bytes a raw FastCGI client gets and how the stream ends, as each fault's own file
 * declares them (`wire` in src/faults/builtin/<id>.ts). test/faults/exchange.test.ts does the
 * same for the HTTP faults.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import type { ExchangeFaultDef, WireBounds, WireBytes, WireExpectation } from '../../src/faults/fault.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { fcgiRequest } from '../helpers/fcgi-client.js';
import { rawRequest, type RawResult } from '../helpers/raw-client.js';

function wireBytes(b: WireBytes): Buffer {
  const parts = typeof b === 'string' ? [b] : b;
  return Buffer.concat(
    parts.map((p) => {
      if (typeof p === 'string') return Buffer.from(p, 'latin1');
      if ('hex' in p) {
        const h = p.hex.replace(/\s+/g, '');
        if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`wire bytes: "${p.hex}" is not whole bytes of hex`);
        return Buffer.from(h, 'hex');
      }
      return Buffer.from(p.repeat.repeat(p.times), 'latin1');
    }),
  );
}

function expectWithin(what: string, ms: number, b: WireBounds | undefined): void {
  if (b?.atLeast !== undefined) expect(ms, `${what} (ms)`).toBeGreaterThanOrEqual(b.atLeast);
  if (b?.below !== undefined) expect(ms, `${what} (ms)`).toBeLessThan(b.below);
}

function expectWire(r: RawResult, w: WireExpectation): void {
  const want = wireBytes(w.bytes);
  expect(r.end).toBe(w.end);
  // Hex, so a difference in a record header shows as bytes; the length first, for a long stream.
  expect(r.bytes.length, 'bytes received').toBe(want.length);
  if (!r.bytes.equals(want)) {
    let i = 0;
    while (r.bytes[i] === want[i]) i++;
    expect(r.bytes.subarray(Math.max(0, i - 8), i + 24).toString('hex'), `first difference at byte ${i}`).toBe(want.subarray(Math.max(0, i - 8), i + 24).toString('hex'));
  }
  if (w.firstByteMs) expectWithin('first byte', r.chunks[0]?.atMs ?? Infinity, w.firstByteMs);
  expectWithin('end of stream', r.durationMs, w.durationMs);
}

const fastcgi = BUILTIN_FAULTS.filter((d): d is ExchangeFaultDef => d.layer === 'exchange' && d.protocol === 'fastcgi');
const dir = mkdtempSync(join(tmpdir(), 'bg-fcgi-'));
const unixPath = join(dir, 'fpm.sock');
let up: StartedUpstream;
const results = new Map<string, { tcp: RawResult; unix: RawResult }>();

beforeAll(async () => {
  up = await startUpstream({ fastcgiPort: 0, fastcgiUnixPath: unixPath, listenerFaults: [] });
  const port = up.listeners.find((l) => l.name === 'fastcgi')!.port!;
  await Promise.all(
    fastcgi.map(async ({ id, wire: w }) => {
      if (!w) return;
      const req = fcgiRequest({ uri: `/${id}${w.query ?? ''}` });
      const opts = { timeoutMs: w.timeoutMs ?? 5000 };
      const [tcp, unix] = await Promise.all([rawRequest(req, { port, ...opts }), rawRequest(req, { port: 0, path: unixPath, ...opts })]);
      results.set(id, { tcp, unix });
    }),
  );
});
afterAll(async () => {
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('every built-in FastCGI fault on the wire', () => {
  test('there are FastCGI faults, each with a wire expectation', () => {
    expect(fastcgi.length).toBeGreaterThanOrEqual(12);
    expect(fastcgi.filter((d) => d.wire === undefined).map((d) => d.id)).toEqual([]);
  });

  test.each(fastcgi.map((d) => [d.id, d] as const))('%s over TCP', (id, def) => {
    expectWire(results.get(id)!.tcp, def.wire!);
  });

  test.each(fastcgi.map((d) => [d.id, d] as const))('%s over a unix socket', (id, def) => {
    // A unix socket has no RST: a reset there is a plain close.
    const w = def.wire!;
    expectWire(results.get(id)!.unix, w.end === 'reset' ? { ...w, end: 'fin' } : w);
  });
});
