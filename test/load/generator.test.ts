/**
 * The generator against small raw servers on 127.0.0.1 (no gateway): the open model keeps its
 * schedule when the server stalls and counts the wait in the latency, and each way an answer
 * can end lands in the right status and body count.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { runGenerator } from '../../src/load/generator.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server that hands each request (one per data event: our requests are small) to `answer`. */
async function serve(answer: (s: Socket, n: number) => void): Promise<number> {
  let n = 0;
  server = createServer((s) => {
    s.on('error', () => {});
    s.on('data', () => answer(s, n++));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

const GET = Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
const sum = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);

test('a stalled server: requests keep their schedule, wait for the one connection, and the wait is in their latency', async () => {
  // 100 ms per answer on one connection, 50 requests due per second: a closed-model client would
  // report 100 ms for every request; from when each was due, the queue shows.
  const port = await serve((s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 100));
  const g = await runGenerator({ host: '127.0.0.1', port, rate: 50, durationMs: 1000, connections: 1, requests: [GET], pick: () => 0, timeoutMs: 2000 });
  expect(g.due).toBe(50);
  // About 10 answers fit in a second; the rest were due and never sent.
  expect(g.sent).toBeGreaterThanOrEqual(5);
  expect(g.sent).toBeLessThanOrEqual(12);
  expect(g.unsent).toBe(g.due - g.sent);
  expect(g.queued).toBeGreaterThan(0);
  // The last one sent was due at about (sent-1)·20 ms and answered at about sent·100 ms.
  expect(g.latency.max / 1000).toBeGreaterThan(g.sent * 100 - (g.sent - 1) * 20 - 100);
  expect(g.latency.quantile(0.5)! / 1000).toBeGreaterThan(150);
  expect(sum(g.byStatus)).toBe(g.sent);
});

test('each ending lands in its status and body state, and the counts add up', async () => {
  const port = await serve((s, n) => {
    const kind = n % 5;
    if (kind === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    else if (kind === 1) s.write('HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    else if (kind === 2) s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf'); // FIN mid-body
    else if (kind === 3) s.end(); // FIN, no response
    else s.resetAndDestroy(); // RST, no response
  });
  // One connection: the server sees the requests in order, so its n is the request's index.
  const g = await runGenerator({ host: '127.0.0.1', port, rate: 100, durationMs: 500, connections: 1, requests: [GET], pick: () => 0, timeoutMs: 2000 });
  expect(g.sent).toBe(50);
  expect(g.byStatus).toEqual({ 200: 20, 502: 10, none: 20 });
  expect(g.byBody).toEqual({ complete: 20, truncated: 10, none: 20 });
  expect(g.noResponse).toEqual({ fin: 10, reset: 10 });
  expect(g.interrupted).toBe(false);
});

test('an abort stops at once: what is in flight is unfinished, and still counted', async () => {
  const port = await serve(() => {}); // never answers
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 300);
  const at = performance.now();
  const g = await runGenerator({ host: '127.0.0.1', port, rate: 100, durationMs: 10_000, connections: 4, requests: [GET], pick: () => 0, timeoutMs: 5000, signal: ctl.signal });
  expect(performance.now() - at).toBeLessThan(1000);
  expect(g.interrupted).toBe(true);
  expect(g.byStatus).toEqual({ unfinished: 4 });
  expect(g.sent).toBe(4);
  expect(g.unsent).toBeGreaterThan(20);
});

test('a head split across reads survives another connection reading in between (reads share one buffer)', async () => {
  // Request 0 (connection A) gets the start of a 201's head and waits; request 1 (connection B,
  // opened because A is busy) gets a whole 200, read into the same buffer A's partial head came
  // in; then A's head is finished. A kept view of the shared buffer would read A as B's 200.
  let first: Socket | undefined;
  const port = await serve((s, n) => {
    s.setNoDelay(true);
    if (n === 0) {
      first = s;
      s.write('HTTP/1.1 201 Created\r\nContent-Le');
    } else {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => first!.write('ngth: 3\r\n\r\nabc'), 50);
    }
  });
  const g = await runGenerator({ host: '127.0.0.1', port, rate: 4, durationMs: 500, connections: 2, requests: [GET], pick: () => 0, timeoutMs: 2000 });
  expect(g.sent).toBe(2);
  expect(g.connectionsOpened).toBe(2);
  expect(g.byStatus).toEqual({ 200: 1, 201: 1 });
  expect(g.byBody).toEqual({ complete: 2, truncated: 0, none: 0 });
});
