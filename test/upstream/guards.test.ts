/**
 * The listener guards: a request head that takes too long (408) or grows too big (431), and a
 * connection cap that closes new connections at accept while the control API and the DNS
 * responder keep answering. None of them may change what a fault does on purpose: a script that
 * reads slowly, an idle kept-alive connection, a fault's own `read: head`.
 */
import dns from 'node:dns';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import { startChaos, type StartedChaos } from '../../src/harness/chaos.js';
import type { Stamped } from '../../src/upstream/events.js';
import { defaultMaxConnections, descriptorLimit } from '../../src/upstream/listen.js';
import { startUpstream, type StartedUpstream, type UpstreamOptions } from '../../src/upstream/upstream.js';
import { startUpstream as startPublicUpstream } from '../../src/index.js';
import { GET, openSession, rawRequest, waitUntil, type RawSession } from '../helpers/raw-client.js';

const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TOO_BIG = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n';

type GuardEvent = Extract<Stamped, { type: 'guard' }>;

const open: Array<{ close(): Promise<void> }> = [];
const sessions: RawSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  for (const o of open.splice(0)) await o.close();
});

async function upstream(opts: UpstreamOptions): Promise<{ up: StartedUpstream; guards: GuardEvent[] }> {
  const up = await startUpstream({ listenerFaults: [], ...opts });
  open.push(up);
  const guards: GuardEvent[] = [];
  up.events.subscribe((e) => {
    if (e.type === 'guard') guards.push(e);
  });
  return { up, guards };
}

async function session(port: number): Promise<RawSession> {
  const s = openSession({ port });
  sessions.push(s);
  await s.connected;
  return s;
}

/** Writes `text` a byte every `everyMs` until `stop` says so or the connection ends. */
async function dribble(s: RawSession, text: string, everyMs: number, stop: () => boolean = () => false): Promise<void> {
  for (const ch of text) {
    if (stop() || s.socket.destroyed || s.socket.writableEnded) return;
    s.write(ch);
    await sleep(everyMs);
  }
}

describe('request-head time limit', () => {
  test('a head sent a byte at a time gets a 408 and a FIN once the limit passes, with an event per connection', async () => {
    const { up, guards } = await upstream({ headTimeoutMs: 300 });
    const peers = await Promise.all(Array.from({ length: 20 }, () => session(up.http.port)));
    const started = performance.now();
    let ended = false;
    const writers = peers.map((s) => dribble(s, GET('/healthy', 'X-Pad: ' + 'p'.repeat(200) + '\r\n'), 40, () => ended));
    const ends = await Promise.all(peers.map((s) => s.waitEnd(3000)));
    ended = true;
    await Promise.all(writers);
    const took = performance.now() - started;
    for (const [i, end] of ends.entries()) {
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(peers[i]!.bytes().toString('latin1')).toBe(REQUEST_TIMEOUT);
    }
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
    expect(guards).toHaveLength(20);
    expect(guards.every((g) => g.guard === 'head-timeout' && g.limit === 300 && g.listener === 'http')).toBe(true);
    await waitUntil(() => up.openConnections === 0, 3000, 'every guarded connection released');
  });

  test('a connection that sends nothing is timed from accept, and closed without a 408 it never asked for', async () => {
    const { up, guards } = await upstream({ headTimeoutMs: 200 });
    const s = await session(up.http.port);
    const end = await s.waitEnd(2000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    expect(end === 'timeout' ? 0 : end.atMs).toBeGreaterThanOrEqual(190);
    expect(s.bytes().length).toBe(0);
    expect(guards.map((g) => g.guard)).toEqual(['head-timeout']);
  });

  test('the default is 30 s, and it holds on the unix listener too', async () => {
    const { up } = await upstream({});
    expect(up.guards.headTimeoutMs).toBe(30_000);
    const path = `/tmp/bg-guards-${process.pid}.sock`;
    const { up: withUnix, guards } = await upstream({ headTimeoutMs: 150, unixPath: path });
    const s = openSession({ path });
    sessions.push(s);
    await s.connected;
    s.write('GET /healthy HTTP/1.1\r\n');
    const end = await s.waitEnd(2000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    expect(s.bytes().toString('latin1')).toBe(REQUEST_TIMEOUT);
    expect(guards).toMatchObject([{ guard: 'head-timeout', listener: 'unix' }]);
    await withUnix.close();
  });

  test('an idle kept-alive connection is not a slow head: it outlives the limit and serves the next request', async () => {
    const { up, guards } = await upstream({ headTimeoutMs: 150 });
    const s = await session(up.http.port);
    s.write(GET('/healthy'));
    await s.waitFor((b) => b.length >= OK.length, 2000);
    expect(await s.quietFor(600)).toBe('quiet');
    s.write(GET('/healthy'));
    const both = await s.waitFor((b) => b.length >= 2 * OK.length, 2000);
    expect(both.toString('latin1')).toBe(OK + OK);
    expect(guards).toEqual([]);
  });

  test('a fault that reads slowly on purpose is never cut: its script runs unguarded, its own read: head too', async () => {
    const catalogue = new Catalogue(BUILTIN_FAULTS);
    const [slowRead] = loadFaultText(
      'id: read-ten-slowly\nsummary: reads ten raw bytes after the head\nsteps:\n  - read: { bytes: 10 }\n  - respond: { status: 200, body: "ok\\n" }\n',
      'slow-read.yaml',
    );
    catalogue.add(slowRead!);
    const { up, guards } = await upstream({ catalogue, headTimeoutMs: 150 });

    // The script's read of ten bytes takes 600 ms, four times the head limit.
    const a = await session(up.http.port);
    a.write(GET('/read-ten-slowly', 'Connection: close\r\n'));
    await dribble(a, '0123456789', 60);
    const endA = await a.waitEnd(3000);
    expect(endA === 'timeout' ? endA : endA.end).toBe('fin');
    expect(a.bytes().toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok\n$/);

    // slow-response waits 500 ms inside its script.
    const b = await rawRequest(GET('/slow-response?delayMs=500', 'Connection: close\r\n'), { port: up.http.port, timeoutMs: 3000 });
    expect(b.end).toBe('fin');
    expect(b.durationMs).toBeGreaterThanOrEqual(490);
    expect(b.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*late\n$/);

    // keepalive-stale's script reads the next head itself: sent over 1.2 s, it still gets the fault's FIN, not a 408.
    const c = await session(up.http.port);
    c.write(GET('/keepalive-stale'));
    await c.waitFor((x) => x.toString('latin1').endsWith('ok\n'), 2000);
    await dribble(c, GET('/keepalive-stale'), 30);
    const endC = await c.waitEnd(3000);
    expect(endC === 'timeout' ? endC : endC.end).toBe('fin');
    expect(c.bytes().toString('latin1')).not.toContain('408');

    expect(guards).toEqual([]);
  });
});

describe('request-head size limit', () => {
  test('a head past the default 64 KiB gets a 431 (not a 400) and an event', async () => {
    const { up, guards } = await upstream({});
    expect(up.guards.maxHeadBytes).toBe(65_536);
    const r = await rawRequest(GET('/healthy', `X-Big: ${'b'.repeat(70 * 1024)}\r\n`), { port: up.http.port, timeoutMs: 3000 });
    expect(r.bytes.toString('latin1')).toBe(TOO_BIG);
    expect(r.end).toBe('fin');
    expect(guards).toMatchObject([{ type: 'guard', guard: 'head-too-big', limit: 65_536, listener: 'http' }]);
  });

  test('a configured limit: a head just under it is served, one over it (even without its blank line yet) gets a 431', async () => {
    const { up, guards } = await upstream({ maxHeadBytes: 1024 });
    const under = GET('/healthy', `X-Pad: ${'u'.repeat(900)}\r\nConnection: close\r\n`);
    expect(under.length).toBeLessThanOrEqual(1024);
    const ok = await rawRequest(under, { port: up.http.port });
    expect(ok.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

    // No blank line: the limit holds before the head is complete, and the peer still sending is drained, not reset.
    const s = await session(up.http.port);
    s.write(`GET /healthy HTTP/1.1\r\nX-Pad: ${'o'.repeat(2000)}`);
    const end = await s.waitEnd(3000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    expect(s.bytes().toString('latin1')).toBe(TOO_BIG);
    expect(guards).toMatchObject([{ guard: 'head-too-big', limit: 1024 }]);
  });

  test('a head dribbled a byte at a time up to the limit is scanned once, not once per byte', async () => {
    // 64 KiB in 1-byte chunks: scanning the whole buffer per chunk is ~2 G byte comparisons; once is 64 K.
    const { up, guards } = await upstream({});
    const s = await session(up.http.port);
    s.socket.setNoDelay(true);
    s.write('GET /healthy HTTP/1.1\r\nX-Pad: ');
    const started = performance.now();
    for (let i = 0; i < 66_000 && !s.socket.destroyed; i++) {
      s.write('x');
      if (i % 2000 === 0) await sleep(1);
    }
    const end = await s.waitEnd(10_000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    expect(s.bytes().toString('latin1')).toBe(TOO_BIG);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(guards.map((g) => g.guard)).toEqual(['head-too-big']);
  });
});

describe('connection cap', () => {
  let chaos: StartedChaos;

  test('with 50 held, the 51st is closed at accept with one event; control API and DNS still answer; a freed slot serves again', async () => {
    const guards: GuardEvent[] = [];
    chaos = await startChaos({ listenerFaults: [], maxConnections: 50, onGuard: (e) => guards.push(e as GuardEvent) });
    open.push(chaos);
    const port = chaos.upstream.http.port;
    const held = await Promise.all(Array.from({ length: 50 }, () => session(port)));
    await waitUntil(() => chaos.upstream.openConnections === 50, 2000, '50 connections accepted');

    const refused = await rawRequest(GET('/healthy'), { port, timeoutMs: 2000 });
    expect(refused.end === 'fin' || refused.end === 'reset').toBe(true);
    expect(refused.bytes.length).toBe(0);
    expect(guards).toMatchObject([{ type: 'guard', guard: 'connection-cap', listener: 'http', limit: 50, refused: 1 }]);
    // The 50 held ones are untouched.
    expect(chaos.upstream.openConnections).toBe(50);

    const faults = await fetch(`${chaos.control!.url}/api/faults`);
    expect(faults.status).toBe(200);
    expect(((await faults.json()) as unknown[]).length).toBeGreaterThan(40);
    const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${chaos.dns!.port}`]);
    expect(await resolver.resolve4(chaos.dns!.nameFor('ok'))).toEqual(['127.0.0.1']);

    held[0]!.destroy();
    await waitUntil(() => chaos.upstream.openConnections === 49, 2000, 'a slot freed');
    const served = await rawRequest(GET('/healthy', 'Connection: close\r\n'), { port, timeoutMs: 2000 });
    expect(served.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  test('a burst beyond the cap is told once at first, then counted at most once a second', async () => {
    const guards: GuardEvent[] = [];
    const up = await startUpstream({ listenerFaults: [], maxConnections: 5, onGuard: (e) => guards.push(e as GuardEvent) });
    open.push(up);
    await Promise.all(Array.from({ length: 5 }, () => session(up.http.port)));
    await waitUntil(() => up.openConnections === 5, 2000, '5 accepted');
    const burst = await Promise.all(Array.from({ length: 30 }, () => rawRequest(GET('/healthy'), { port: up.http.port, timeoutMs: 2000 })));
    expect(burst.every((r) => r.bytes.length === 0)).toBe(true);
    await waitUntil(() => guards.reduce((n, g) => n + (g.guard === 'connection-cap' ? g.refused : 0), 0) === 30, 3000, 'all 30 refusals told');
    expect(guards.length).toBeLessThanOrEqual(3);
    expect(guards[0]).toMatchObject({ guard: 'connection-cap', refused: 1 });
  });

  test('the default cap is the descriptor limit minus a reserve, and the public startUpstream takes the guards', async () => {
    const limit = descriptorLimit();
    expect(limit).toBeGreaterThan(0);
    const cap = defaultMaxConnections(limit);
    expect(cap).toBeLessThan(limit);
    expect(limit - cap).toBeGreaterThanOrEqual(Math.min(128, limit / 2));
    expect(defaultMaxConnections(1024)).toBe(896);
    expect(defaultMaxConnections(1_048_576)).toBe(1_048_576 - 1024);
    expect(defaultMaxConnections(100)).toBe(50);
    const { up } = await upstream({});
    expect(up.guards.maxConnections).toBe(cap);

    const pub = await startPublicUpstream({ control: true, maxConnections: 2, headTimeoutMs: 200, listenerFaults: [] });
    open.push(pub);
    const events: Stamped[] = [];
    pub.events.subscribe((e) => events.push(e));
    const a = await session(pub.http.port);
    await session(pub.http.port);
    await waitUntil(() => events.filter((e) => e.type === 'connection').length === 2, 2000, 'two accepted');
    await rawRequest(GET('/healthy'), { port: pub.http.port, timeoutMs: 1000 });
    const end = await a.waitEnd(2000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    // Both held connections time out in the same sweep, but the second one's event may follow the
    // first one's FIN by a moment: wait for the three events, then check exactly which they are.
    const guardNames = () => events.filter((e) => e.type === 'guard').map((e) => (e as GuardEvent).guard).sort();
    await waitUntil(() => guardNames().length >= 3, 2000, 'three guard events');
    expect(guardNames()).toEqual(['connection-cap', 'head-timeout', 'head-timeout']);
    expect((await fetch(`${pub.controlUrl}/api/faults`)).status).toBe(200);
  });
});

test('guard options out of range are a BG_BAD_OPTION that says what to give', async () => {
  const cases: Array<[UpstreamOptions, RegExp]> = [
    [{ headTimeoutMs: 0 }, /headTimeoutMs 0: give a whole number from 1 to 2147483647/],
    [{ headTimeoutMs: 2 ** 31 }, /headTimeoutMs 2147483648/],
    [{ maxHeadBytes: 10 }, /maxHeadBytes 10: give a whole number from 64 to 1048576/],
    [{ maxHeadBytes: 1.5e3 + 0.5 }, /maxHeadBytes 1500.5/],
    [{ maxConnections: 0 }, /maxConnections 0: give a whole number from 1 to \d+: this process may open at most \d+ descriptors \(ulimit -n\)/],
    [{ maxConnections: descriptorLimit() + 1 }, /raise the limit for more/],
  ];
  for (const [opts, message] of cases) {
    const err = await startUpstream({ listenerFaults: [], ...opts }).then(
      (up) => {
        open.push(up);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('BG_BAD_OPTION');
    expect((err as Error).message).toMatch(message);
  }
});
