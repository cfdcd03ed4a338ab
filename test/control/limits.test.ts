/**
 * The control API cannot be used against itself: routing tables are bounded, and a huge fault id
 * is refused before the closest-id search (which took seconds on a 1 MB id).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startControl, type StartedControl } from '../../src/control/control-server.js';
import { MAX_FAULT_ID_CHARS, MAX_MIX_ENTRIES, MAX_ROUTES } from '../../src/control/routing-schema.js';
import { closest } from '../../src/errors.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';

let up: StartedUpstream;
let ctl: StartedControl;
beforeAll(async () => {
  up = await startUpstream({ listenerFaults: [] });
  ctl = await startControl({ upstream: up });
});
afterAll(async () => {
  await ctl?.close();
  await up?.close();
});

async function put(path: string, json: unknown): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(ctl.url + path, { method: 'PUT', body: JSON.stringify(json), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json(), ms: performance.now() - started };
}

describe('routing tables', () => {
  test(`at most ${MAX_ROUTES} routes and ${MAX_MIX_ENTRIES} mix entries: more is a 400 with a stable code, and nothing changes`, async () => {
    const before = up.routing;
    const routes = Array.from({ length: MAX_ROUTES + 1 }, (_, i) => ({ pathPrefix: `/r${i}`, fault: 'healthy' }));
    const tooMany = await put('/api/routing', { routes, defaultFault: 'healthy' });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toEqual({
      code: 'BG_CONTROL_ROUTING_TOO_LARGE',
      message: `routes has ${MAX_ROUTES + 1} entries; the control API takes at most ${MAX_ROUTES}. A route matches a path prefix or a header, so a few cover any test.`,
    });
    const mix = Array.from({ length: MAX_MIX_ENTRIES + 1 }, () => ({ fault: 'healthy', weight: 1 }));
    const tooMixed = await put('/api/routing', { routes: [], defaultFault: 'healthy', mix });
    expect(tooMixed.status).toBe(400);
    expect(tooMixed.body.error.code).toBe('BG_CONTROL_ROUTING_TOO_LARGE');
    expect(tooMixed.body.error.message).toMatch(/^mix has 257 entries/);
    expect(up.routing).toEqual(before);

    const atLimit = await put('/api/routing', { routes: routes.slice(0, MAX_ROUTES), defaultFault: 'healthy' });
    try {
      expect(atLimit.status).toBe(200);
      expect(atLimit.body.routes).toHaveLength(MAX_ROUTES);
    } finally {
      await put('/api/routing', { routes: [], defaultFault: 'healthy' });
    }
  });
});

describe('closest-id search', () => {
  test('a 1 MB fault id is a 400 at once, not seconds of edit distance', async () => {
    const huge = 'empty-replay' + 'x'.repeat(1_000_000);
    for (const [path, body] of [
      ['/api/routing/default', { fault: huge }],
      ['/api/routing', { routes: [{ pathPrefix: '/a', fault: huge }], defaultFault: 'healthy' }],
    ] as const) {
      const r = await put(path, body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('BG_CONTROL_BAD_BODY');
      expect(r.body.error.message).toMatch(new RegExp(`fault id is at most ${MAX_FAULT_ID_CHARS} characters`));
      expect(r.ms).toBeLessThan(1000);
    }
  });

  test('closest() reads at most the first 100 characters, so any caller stays fast and still useful', () => {
    const ids = up.catalogue.ids();
    const huge = 'empty-replay' + 'x'.repeat(1_000_000);
    const started = performance.now();
    const near = closest(huge, ids);
    // Uncapped, this took about 3 s here; capped, well under a millisecond when the machine is idle.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(near).toHaveLength(3);
    expect(closest('empty-replay', ids)[0]).toBe('empty-reply');
  });
});
