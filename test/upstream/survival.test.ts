/**
 * The upstream survives everything it injects and everything a peer can do to
 * it, all at once; then it still answers, lets go of every connection, and
 * leaves no socket behind after close().
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import { seededRandom } from '../../src/upstream/router.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, loopTurn, openSession, rawRequest, tryConnect, waitUntil } from '../helpers/raw-client.js';

const SEED = 0x5eed;
const HUGE = 16 * 1024 * 1024;
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TOO_BIG = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const OK_KEEP = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n';
const OK_CLOSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';
const CLOSE = 'Connection: close\r\n';
/** Declared params are taken from the query string; others are ignored. */
const QUICK = '?delayMs=100&intervalMs=5&idleMs=100';

const tcpHandles = () => {
  const all = process.getActiveResourcesInfo();
  return { sockets: all.filter((r) => r === 'TCPSocketWrap').length, servers: all.filter((r) => r === 'TCPServerWrap').length };
};

function randomBytes(random: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** A peer that sends seeded random bytes, then ends: it gets a 400 or nothing, and a clean end either way. */
async function randomPeer(up: StartedUpstream, random: () => number): Promise<void> {
  const size = 1 + Math.floor(random() * 16 * 1024);
  const r = await rawRequest(randomBytes(random, size), { port: up.http.port, endAfterWrite: true, timeoutMs: 3000 });
  expect(['fin', 'reset']).toContain(r.end);
  expect(['', BAD_REQUEST]).toContain(r.bytes.toString('latin1'));
}

async function rstMidRequest(up: StartedUpstream): Promise<void> {
  const s = openSession({ port: up.http.port });
  await s.connected;
  // empty-reply reads the body first: it is still waiting for most of it.
  s.write(`POST /empty-reply HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(5000)}`);
  await sleep(20);
  s.socket.resetAndDestroy();
}

async function rstMidHead(up: StartedUpstream): Promise<void> {
  const s = openSession({ port: up.http.port });
  await s.connected;
  s.write('GET /healthy HTTP/1.1\r\nHo');
  await sleep(20);
  s.socket.resetAndDestroy();
}

async function rstMidResponse(up: StartedUpstream, target: string, afterBytes: number): Promise<void> {
  const s = openSession({ port: up.http.port });
  await s.connected;
  s.write(GET(target));
  await s.waitFor((b) => b.length >= afterBytes, 3000);
  s.socket.resetAndDestroy();
}

/** A peer that keeps sending after its request, into a fault that hangs: nothing reads it, nothing should pile up. */
async function flood(up: StartedUpstream, target: string, total: number): Promise<void> {
  const s = openSession({ port: up.http.port });
  try {
    await s.connected;
    s.write(GET(target));
    const chunk = Buffer.alloc(64 * 1024, 'j');
    const started = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!s.socket.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            s.socket.off('close', onClose);
            resolve();
          };
          const onClose = () => {
            s.socket.off('drain', onDrain);
            reject(new Error(`closed after ${sent} bytes`));
          };
          s.socket.once('drain', onDrain);
          s.socket.once('close', onClose);
        });
      }
    }
    // Linear in what was sent (a copy per chunk of everything buffered so far took ~18 s for 32 MiB).
    expect(performance.now() - started).toBeLessThan(3000);
    expect(await s.quietFor(20)).toBe('quiet');
  } finally {
    s.destroy();
  }
}

/** Reads nothing for a while (the upstream's writes back up), then everything. */
async function slowReader(up: StartedUpstream, target: string, expectedLength: number): Promise<void> {
  const s = openSession({ port: up.http.port });
  try {
    await s.connected;
    s.socket.pause();
    s.write(GET(target));
    await sleep(300);
    s.socket.resume();
    const end = await s.waitEnd(10_000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    expect(s.bytes().length).toBe(expectedLength);
  } finally {
    s.destroy();
  }
}

test('the upstream survives it all, then answers, lets go, and leaves nothing behind', async () => {
  await loopTurn();
  const before = tcpHandles();

  const catalogue = new Catalogue(BUILTIN_FAULTS);
  const [huge] = loadFaultText(
    `id: huge-response\nsteps:\n  - write: ["HTTP/1.1 200 OK\\r\\nContent-Length: ${HUGE}\\r\\n\\r\\n", { repeat: "x", times: ${HUGE} }]\n  - close\n`,
    'huge.yaml',
  );
  catalogue.add(huge!);
  const up = await startUpstream({ catalogue });
  // What each connection did, to name the ones still open if the upstream does not let go.
  const trace = new Map<number, string[]>();
  up.events.subscribe((e) => {
    if (!('conn' in e)) return;
    const t = trace.get(e.conn) ?? [];
    t.push(e.type === 'step' ? `${e.index}:${e.op}` : e.type === 'request' ? `${e.method} ${e.target} → ${e.fault}` : e.type);
    trace.set(e.conn, t);
  });
  const stillOpen = () => [...trace].filter(([, t]) => !t.includes('close')).map(([id, t]) => `conn ${id}: ${t.join(' | ')}`);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const random = seededRandom(SEED);
  const listenerPort = (id: string) => up.listeners.find((l) => l.fault === id)!.port!;
  const exchangeIds = catalogue
    .list()
    .filter((d) => d.layer === 'exchange' && d.id !== 'huge-response')
    .map((d) => d.id);

  try {
    const body = Buffer.alloc(1024 * 1024, 'b');
    const chunkedBody = Buffer.concat([
      ...Array.from({ length: 16 }, () => Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 'c'), Buffer.from('\r\n')])),
      Buffer.from('0\r\n\r\n'),
    ]);
    const headerTooBigLength = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: '.length + 65536 + '\r\n\r\nok'.length;

    await Promise.all([
      // Seeded random bytes from many peers.
      ...Array.from({ length: 24 }, () => randomPeer(up, random)),
      // A random blob over the head limit, never a blank line: 431, and what it still sends is
      // drained, so the answer is not lost to an RST.
      (async () => {
        const blob = Buffer.from(randomBytes(random, 100 * 1024).map((x) => (x === 10 ? 32 : x)));
        const r = await rawRequest(blob, { port: up.http.port, timeoutMs: 3000 });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', TOO_BIG]);
      })(),
      // Garbage then close.
      (async () => {
        const r = await rawRequest('NOT HTTP AT ALL\r\n\r\n', { port: up.http.port });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', BAD_REQUEST]);
      })(),
      (async () => {
        const r = await rawRequest('garbage without an end', { port: up.http.port, endAfterWrite: true });
        expect([r.end, r.bytes.length]).toEqual(['fin', 0]);
      })(),
      // Half-open peers: a partial head then our FIN; a complete request then our FIN still gets its answer.
      (async () => {
        const r = await rawRequest('GET /healthy HTTP/1.1\r\nHost: t\r\n', { port: up.http.port, endAfterWrite: true });
        expect([r.end, r.bytes.length]).toEqual(['fin', 0]);
      })(),
      (async () => {
        const r = await rawRequest(GET('/healthy'), { port: up.http.port, endAfterWrite: true });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', OK_KEEP]);
      })(),
      (async () => {
        const r = await rawRequest(GET('/never-respond'), { port: up.http.port, endAfterWrite: true });
        expect([r.end, r.bytes.length]).toEqual(['fin', 0]);
      })(),
      // RST from the client mid-head, mid-body and mid-response.
      rstMidHead(up),
      rstMidRequest(up),
      rstMidResponse(up, '/slow-body?intervalMs=10', 45),
      rstMidResponse(up, '/body-short-hold-open', 100),
      rstMidResponse(up, '/huge-response', 256 * 1024),
      rstMidResponse(up, '/slow-headers?intervalMs=5', 10),
      // Slow readers of big responses.
      slowReader(up, '/header-too-big', headerTooBigLength),
      slowReader(up, '/huge-response', 'HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n'.length + HUGE),
      // Peers that keep sending into a hang.
      flood(up, '/never-respond', 32 * 1024 * 1024),
      flood(up, '/body-short-hold-open', 8 * 1024 * 1024),
      // Pipelined requests, answered in order; the last asks for close.
      (async () => {
        const reqs = Array.from({ length: 10 }, (_, i) => GET('/healthy', i === 9 ? CLOSE : '')).join('');
        const r = await rawRequest(reqs, { port: up.http.port });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', OK_KEEP.repeat(9) + OK_CLOSE]);
      })(),
      (async () => {
        const r = await rawRequest(GET('/healthy') + GET('/healthy') + GET('/empty-reply') + GET('/healthy'), { port: up.http.port });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', OK_KEEP.repeat(2)]);
      })(),
      // 1 MiB request bodies (length and chunked), then another request on the same connection.
      (async () => {
        const req = Buffer.concat([Buffer.from(`POST /healthy HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`), body, Buffer.from(GET('/healthy', CLOSE))]);
        const r = await rawRequest(req, { port: up.http.port, timeoutMs: 5000 });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', OK_KEEP + OK_CLOSE]);
      })(),
      (async () => {
        const req = Buffer.concat([Buffer.from('POST /healthy HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n'), chunkedBody, Buffer.from(GET('/healthy', CLOSE))]);
        const r = await rawRequest(req, { port: up.http.port, timeoutMs: 5000 });
        expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', OK_KEEP + OK_CLOSE]);
      })(),
      // Every fault at once, by path and by the override header, and every listener fault. Delays
      // are lowered to keep the run short; the connections must be gone soon after the clients
      // (a client's FIN ends a wait: test/upstream/peer-leaves.test.ts).
      ...exchangeIds.map((id) => rawRequest(GET(`/${id}${QUICK}`), { port: up.http.port, timeoutMs: 300 })),
      ...exchangeIds.map((id) => rawRequest(GET(`/${QUICK}`, `X-Badgateway-Fault: ${id}\r\n`), { port: up.http.port, timeoutMs: 300 })),
      ...up.listeners.filter((l) => l.fault !== undefined).map((l) => tryConnect(l.port!, 300)),
      rawRequest(GET('/'), { port: listenerPort('reset-on-accept'), timeoutMs: 300 }),
      rawRequest(GET('/'), { port: listenerPort('close-on-accept'), timeoutMs: 300 }),
    ]);

    // Still healthy.
    const r = await rawRequest(GET('/healthy', CLOSE), { port: up.http.port });
    expect([r.end, r.bytes.toString('latin1')]).toEqual(['fin', OK_CLOSE]);
    // Every client is closed: the upstream holds nothing.
    await waitUntil(() => up.openConnections === 0, 1000, 'openConnections to drop to 0').catch(() => {
      throw new Error(`the upstream still holds ${up.openConnections} connections:\n${stillOpen().join('\n')}`);
    });
    // Many connections at once are normal for an upstream: no listener-leak warnings.
    await loopTurn();
    expect(warnings).toEqual([]);

    // close() with connections in the middle of a hang and of a dribble ends them at once.
    const held = [openSession({ port: up.http.port }), openSession({ port: up.http.port })];
    try {
      await Promise.all(held.map((h) => h.connected));
      held[0]!.write(GET('/never-respond'));
      held[1]!.write(GET('/slow-body'));
      await waitUntil(() => up.openConnections === 2, 1000, 'two held connections');
      const started = performance.now();
      await up.close();
      expect(performance.now() - started).toBeLessThan(500);
      for (const h of held) expect(await h.waitEnd(500)).not.toBe('timeout');
      await waitUntil(() => up.openConnections === 0, 500, 'no open connections after close()');
    } finally {
      for (const h of held) h.destroy();
    }
  } finally {
    process.off('warning', onWarning);
    await up.close();
  }

  await loopTurn();
  expect(tcpHandles()).toEqual(before);
});
