/**
 * A scenario's timing is relative to its own first request: the dns-flapping record's clock starts
 * as the scenario's first request goes out, not when the DNS responder started. Checked through
 * real gateways and the real responder: a scenario probed 3 s after its gateway (and responder)
 * started meets the same phases as one probed at once. Before the fix, 3 s moved the first
 * request from the "resolves" phase into the NXDOMAIN one (2 s phases).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { startGateway } from '../../src/index.js';
import { findBinary } from '../../src/runtimes/process.js';

const caddy = await findBinary('caddy');
const nginx = await findBinary('nginx');

/** The statuses of the dns-flapping sequence (10 requests, 500 ms apart), probed `delayMs` after the gateway started. */
async function flapStatuses(gateway: string, delayMs: number, stall?: { readonly atMs: number; readonly forMs: number }): Promise<Array<number | string>> {
  const gw = await startGateway({ gateway, runtime: 'process', only: ['dns-flapping'] });
  try {
    await sleep(delayMs);
    // A busy machine in miniature: this process's event loop (probes, upstream, DNS responder) stops.
    if (stall) setTimeout(() => {
      const end = performance.now() + stall.forMs;
      while (performance.now() < end);
    }, stall.atMs);
    const result = await gw.check('dns-flapping');
    return result.outcomes.map((o) => o.status ?? o.kind);
  } finally {
    await gw.close();
  }
}

describe('a flap starts with the scenario, not with the responder', () => {
  // Caddy resolves at every dial and Go keeps no DNS cache: each request shows the phase it met.
  test.skipIf(caddy === undefined && !process.env.CI)('caddy: the same sequence at 0 s and 3 s after the start', { timeout: 60_000 }, async () => {
    const [now, later] = await Promise.all([flapStatuses('caddy', 0), flapStatuses('caddy', 3000)]);
    // 0–1.5 s resolves, 2–4.5 s NXDOMAIN (2 s, then 3 s; each request's query comes after its
    // send time, so a request on a boundary always meets the later phase).
    const phases = [200, 200, 200, 200, 502, 502, 502, 502, 502, 502];
    expect(now).toEqual(phases);
    expect(later).toEqual(phases);
  });

  // Requests the event loop sends late meet the phase of their planned time: the 4th request
  // (planned at 1.5 s) goes out after a 2.4 s stall, at about 3.8 s, and still resolves.
  test.skipIf(caddy === undefined && !process.env.CI)('caddy: the same sequence when the event loop stalls mid-sequence', { timeout: 60_000 }, async () => {
    expect(await flapStatuses('caddy', 0, { atMs: 1400, forMs: 2400 })).toEqual([200, 200, 200, 200, 502, 502, 502, 502, 502, 502]);
  });

  // nginx caches an answer until the end of the next whole second of its own clock (valid=1s), so
  // which request re-resolves moves with the wall clock; what the phases fix whatever it does: the
  // first 2 s resolve, and an answer from then has expired by 3.5 s, so a later request meets NXDOMAIN.
  test.skipIf(nginx === undefined && !process.env.CI)('nginx: the phases pinned to the first request at 0 s and 3 s after the start', { timeout: 60_000 }, async () => {
    for (const seen of await Promise.all([flapStatuses('nginx', 0), flapStatuses('nginx', 3000)])) {
      expect(seen.slice(0, 4)).toEqual([200, 200, 200, 200]);
      expect(seen.slice(7)).toContain(502);
    }
  });
});
