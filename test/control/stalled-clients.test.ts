/**
 * 100 event-stream clients that complete the WebSocket handshake and then never read, while the
 * upstream serves a burst of requests: every one is closed, and the process stays small. Before
 * the event stream had a bound per client, the same run took the upstream from 83 MB to 429 MB
 * of RSS, dropped it from 11,000 to 700 requests/s, and closed none of them.
 *
 * `badgateway serve` runs as its own process (the built CLI: `npm run build` first), so its RSS is
 * the upstream's alone, not this test's.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startCli, waitForOutput } from '../helpers/cli.js';

const STALLED = 100;
const REQUESTS = 10_000;
/** Each request event carries its target: 1 KiB makes ~1.2 KiB of events per request. */
const PAD = 'p'.repeat(1024);
/**
 * The budget for 100 stalled clients. Measured here: 15–30 MB over the baseline, most of
 * it the heap the burst itself grows (a run with no client grows ~6 MB); the shared buffers held
 * for stalled clients are at most MAX_BUFFERED_BYTES (1 MiB) of recent events plus references.
 */
const RSS_GROWTH_LIMIT_MB = 50;

let cli: ReturnType<typeof startCli>;
let httpPort: number;
let controlUrl: URL;
beforeAll(async () => {
  cli = startCli(['serve', '--json', '--no-dns', '--listener-faults', 'none']);
  await waitForOutput(cli.output, /\}\n/);
  const info = JSON.parse(cli.output().split('\n')[0]!);
  httpPort = info.upstream.find((l: { name: string }) => l.name === 'http').port;
  controlUrl = new URL(info.control.url);
});
afterAll(async () => {
  cli?.child.kill('SIGTERM');
  await cli?.done;
});

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cli.child.pid}/status`, 'utf8'))![1]) / 1024;

/** A fresh connection each time: the burst outlasts the server's keep-alive timeout. */
function eventClients(): Promise<number> {
  return new Promise((resolve, reject) => {
    get(new URL('/api/stats', controlUrl), { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body).eventClients));
    }).on('error', reject);
  });
}

/** Handshake, then never read again: paused, the kernel's buffers fill and stay full. */
function stalledClient(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(Number(controlUrl.port), controlUrl.hostname);
    s.on('error', () => {});
    s.write(
      `GET /api/events HTTP/1.1\r\nHost: ${controlUrl.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.pause();
      if (head.startsWith('HTTP/1.1 101 ')) resolve(s);
      else reject(new Error(`upgrade refused: ${head}`));
    };
    s.on('data', onData);
  });
}

/** REQUESTS pipelined keep-alive requests over 8 connections, 64 in flight on each. */
async function burst(): Promise<void> {
  const perConn = REQUESTS / 8;
  const request = `GET /healthy?pad=${PAD} HTTP/1.1\r\nHost: t\r\n\r\n`;
  await Promise.all(
    Array.from(
      { length: 8 },
      () =>
        new Promise<void>((resolve, reject) => {
          const s = connect(httpPort, '127.0.0.1');
          let sent = 0;
          let answered = 0;
          let tail = '';
          const fill = () => {
            while (sent < perConn && sent - answered < 64) {
              s.write(request);
              sent++;
            }
          };
          s.on('error', reject);
          s.on('data', (d: Buffer) => {
            // The status line may straddle two chunks: keep the end of the previous one.
            const text = tail + d.toString('latin1');
            answered += text.match(/HTTP\/1\.1 200 /g)?.length ?? 0;
            tail = text.slice(-12);
            if (answered >= perConn) {
              s.destroy();
              resolve();
            } else fill();
          });
          s.once('connect', fill);
        }),
    ),
  );
}

test(`${STALLED} stalled event-stream clients are all closed during a burst, and cost the upstream under ${RSS_GROWTH_LIMIT_MB} MB`, { timeout: 60_000 }, async () => {
  const clients: Socket[] = [];
  try {
    for (let i = 0; i < STALLED; i++) clients.push(await stalledClient());
    expect(await eventClients()).toBe(STALLED);
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 10);
    const started = performance.now();
    try {
      await burst();
      const burstMs = performance.now() - started;
      // Dropped once more than 1 MiB waits for it, then destroyed after the 1 s close grace.
      const deadline = performance.now() + 5000;
      let left = await eventClients();
      while (left > 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        left = await eventClients();
      }
      const closedMs = performance.now() - started;
      peak = Math.max(peak, rssMb());
      console.log(
        `${REQUESTS} requests in ${burstMs.toFixed(0)} ms with ${STALLED} stalled clients; all closed after ${closedMs.toFixed(0)} ms; ` +
          `RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB at peak`,
      );
      expect(left).toBe(0);
      expect(peak - before).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    } finally {
      clearInterval(sampler);
    }
    // The stalled sockets really are closed: reading now, each gets what the kernel held, then the end.
    const ends = await Promise.all(
      clients.slice(0, 5).map(
        (s) =>
          new Promise<string>((resolve) => {
            const timer = setTimeout(() => resolve('still open'), 5000);
            s.once('close', () => {
              clearTimeout(timer);
              resolve('closed');
            });
            s.resume();
          }),
      ),
    );
    expect(ends).toEqual(Array(5).fill('closed'));
  } finally {
    for (const s of clients) s.destroy();
  }
});
