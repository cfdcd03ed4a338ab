/**
 * Every built-in HTTP/2 fault on the wire, through the real upstream's h2c listener: the frames a
 * raw client gets (HEADERS by their decoded fields) and how the connection ends, as each fault's
 * own file declares them (`h2Wire` in src/faults/builtin/<id>.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import type { ExchangeFaultDef, WireBytes } from '../../src/faults/fault.js';
import type { H2WireFrame } from '../../src/faults/h2-wire.js';
import { FRAME_TYPE } from '../../src/h2/frames.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { rawH2Request, type RawH2Frame, type RawH2Result } from '../helpers/h2-raw-client.js';

function wireBytes(b: WireBytes | undefined): Buffer {
  if (b === undefined) return Buffer.alloc(0);
  const parts = typeof b === 'string' ? [b] : b;
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : 'hex' in p ? Buffer.from(p.hex.replace(/\s+/g, ''), 'hex') : Buffer.from(p.repeat.repeat(p.times), 'latin1'))));
}

const CONNECTION_FRAMES = new Set<number>([FRAME_TYPE.SETTINGS, FRAME_TYPE.PING, FRAME_TYPE.GOAWAY]);

/** A frame as the test compares it: what the fault file says, in the same shape. */
function shown(f: RawH2Frame): Record<string, unknown> {
  const type = Object.entries(FRAME_TYPE).find(([, v]) => v === f.type)?.[0] ?? f.type;
  return { type, flags: f.flags, stream: f.streamId, ...(f.type === FRAME_TYPE.HEADERS ? { headers: f.headers } : { payload: f.payload.toString('hex') }) };
}
function wanted(w: H2WireFrame): Record<string, unknown> {
  const t = FRAME_TYPE[w.type];
  return { type: w.type, flags: w.flags ?? 0, stream: w.stream ?? (CONNECTION_FRAMES.has(t) ? 0 : 1), ...(t === FRAME_TYPE.HEADERS ? { headers: w.headers } : { payload: wireBytes(w.payload).toString('hex') }) };
}

const h2 = BUILTIN_FAULTS.filter((d): d is ExchangeFaultDef => d.layer === 'exchange' && d.protocol === 'h2');
let up: StartedUpstream;
let port: number;
const results = new Map<string, RawH2Result>();

beforeAll(async () => {
  up = await startUpstream({ h2Port: 0, listenerFaults: [] });
  port = up.listeners.find((l) => l.name === 'h2')!.port!;
  await Promise.all(
    h2.map(async (def) => {
      const w = def.h2Wire!;
      results.set(def.id, await rawH2Request({ port, path: `/${def.id}${w.query ?? ''}`, method: w.request?.method, headers: w.request?.headers, body: w.request?.body === undefined ? undefined : wireBytes(w.request.body), idleMs: w.timeoutMs }));
    }),
  );
}, 30_000);
afterAll(async () => {
  await up?.close();
});

describe('every built-in HTTP/2 fault, frame by frame', () => {
  test('there are HTTP/2 faults, each with h2Wire', () => {
    expect(h2.length).toBeGreaterThan(1);
    expect(h2.filter((d) => d.h2Wire === undefined).map((d) => d.id)).toEqual([]);
  });

  test.each(h2.map((d) => [d.id, d] as const))('%s', (id, def) => {
    const r = results.get(id)!;
    const w = def.h2Wire!;
    expect(r.frames.map(shown)).toEqual(w.frames.map(wanted));
    expect(r.trailing, 'bytes after the last whole frame').toBe(0);
    expect(r.end).toBe(w.end);
    if (w.durationMs?.atLeast !== undefined) expect(r.durationMs).toBeGreaterThanOrEqual(w.durationMs.atLeast);
    if (w.durationMs?.below !== undefined) expect(r.durationMs).toBeLessThan(w.durationMs.below);
  });
});
