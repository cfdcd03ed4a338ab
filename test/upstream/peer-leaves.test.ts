/**
 * A peer that leaves is noticed: every step that waits (delay, dribble, hang, keep-alive idle)
 * ends when the peer closes (FIN) or resets, so no socket of the upstream's stays in CLOSE-WAIT
 * after its client is gone. Unless the fault says it ignores the peer's FIN (`ignoresPeer`):
 * then its timed waits run their full time for a client that only half-closed.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Catalogue, loadFaultText } from '../../src/faults/registry.js';
import type { Stamped } from '../../src/upstream/events.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, openSession, waitUntil } from '../helpers/raw-client.js';

/** Sockets in CLOSE-WAIT (state 08) on `port`, from the kernel's own table: the descriptors a missed FIN holds. */
function closeWait(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(hex) && f[3] === '08') n++;
    }
  }
  return n;
}

const P = (name: string) => '$' + `{${name}}`;
const FAULTS = `faults:
  - id: patient-answer
    summary: Answers after a delay even to a client that half-closed.
    ignoresPeer: true
    params: { delayMs: 300 }
    steps:
      - read: body
      - delay: "${P('delayMs')}"
      - respond: { body: "late\\n" }
  - id: patient-idle
    summary: Keep-alive that closes at exactly idleMs even after a FIN.
    ignoresPeer: true
    params: { idleMs: 300 }
    steps:
      - respond: { body: "ok\\n" }
      - keep-alive: { idleMs: "${P('idleMs')}" }
`;

let up: StartedUpstream;
const events: Stamped[] = [];
beforeAll(async () => {
  const catalogue = new Catalogue();
  for (const f of loadFaultText(FAULTS, 'peer.yaml')) catalogue.add(f);
  up = await startUpstream({ catalogue, listenerFaults: [] });
  up.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await up?.close();
});

const connectAll = (n: number) =>
  Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port: up.http.port });
          s.on('error', () => {});
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );

/** How many connections have reached a step `op` of fault `fault` since `from` (an index into events). */
const reached = (from: number, fault: string, op: string) => events.slice(from).filter((e) => e.type === 'step' && e.fault === fault && e.op === op).length;

describe('clients that hang up while a step waits: the upstream lets go at once', () => {
  test.each([
    // Before: a delay listened only for the socket closing, which a FIN does not do (the upstream
    // listens with allowHalfOpen), so each stayed in CLOSE-WAIT for the whole 60 s.
    ['slow-response', '/slow-response?delayMs=60000', 'delay', 200, 'fin'],
    ['slow-body (a dribble)', '/slow-body?intervalMs=60000', 'dribble', 100, 'fin'],
    // Already true before, kept: a hang ends on the peer's FIN, a delay on its reset.
    ['never-respond (a hang)', '/never-respond', 'hang', 100, 'fin'],
    ['slow-response, reset', '/slow-response?delayMs=60000', 'delay', 100, 'reset'],
  ] as const)('%s: the clients close, the upstream is back to baseline within a second', async (_name, target, op, n, how) => {
    const fault = target.slice(1).split('?')[0]!;
    const from = events.length;
    const baseline = up.openConnections;
    const sockets = await connectAll(n);
    try {
      for (const s of sockets) s.write(GET(target));
      await waitUntil(() => reached(from, fault, op) === n, 5000, `${n} connections waiting in ${op}`);
      expect(up.openConnections).toBe(baseline + n);
      for (const s of sockets) {
        if (how === 'reset') s.resetAndDestroy();
        else s.destroy();
      }
      await waitUntil(() => up.openConnections === baseline && closeWait(up.http.port) === 0, 1000, 'every server socket closed').catch(() => {
        throw new Error(`after 1 s the upstream still holds ${up.openConnections - baseline} of ${n}, ${closeWait(up.http.port)} in CLOSE-WAIT`);
      });
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 20_000);

  test('a client that half-closes after its request is gone too (as nginx reads it): FIN, nothing written', async () => {
    const s = openSession({ port: up.http.port, allowHalfOpen: true });
    try {
      await s.connected;
      s.write(GET('/slow-response?delayMs=2000'));
      s.socket.end();
      const end = await s.waitEnd(1000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(s.bytes().length).toBe(0);
    } finally {
      s.destroy();
    }
  });
});

describe('a fault that ignores the peer (ignoresPeer: true)', () => {
  test('answers a half-closed client after its full delay', async () => {
    const s = openSession({ port: up.http.port, allowHalfOpen: true });
    try {
      await s.connected;
      s.write(GET('/patient-answer'));
      s.socket.end();
      const end = await s.waitEnd(3000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(s.bytes().toString('latin1')).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlate\n');
      expect(s.chunks[0]!.atMs).toBeGreaterThanOrEqual(298);
    } finally {
      s.destroy();
    }
  });

  test('after a FIN its socket waits out the delay (bounded, and said), then goes; a reset ends it at once', async () => {
    const from = events.length;
    const [fin, rst] = await connectAll(2);
    try {
      fin!.write(GET('/patient-answer?delayMs=400'));
      rst!.write(GET('/patient-answer?delayMs=60000'));
      await waitUntil(() => reached(from, 'patient-answer', 'delay') === 2, 2000, 'both waiting');
      const base = up.openConnections - 2;
      fin!.destroy();
      rst!.resetAndDestroy();
      await waitUntil(() => up.openConnections === base + 1, 500, 'the reset one gone');
      await new Promise((r) => setTimeout(r, 100));
      expect(closeWait(up.http.port)).toBe(1);
      await waitUntil(() => up.openConnections === base && closeWait(up.http.port) === 0, 1500, 'the other gone once its delay ended');
    } finally {
      fin!.destroy();
      rst!.destroy();
    }
  });

  test('keep-alive idle: a FIN does not cut it short, the close comes at idleMs', async () => {
    const s = openSession({ port: up.http.port, allowHalfOpen: true });
    try {
      await s.connected;
      s.write(GET('/patient-idle'));
      await s.waitFor((b) => b.includes('ok\n'), 1000);
      s.socket.end();
      const end = await s.waitEnd(2000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(end === 'timeout' ? 0 : end.atMs).toBeGreaterThanOrEqual(298);
    } finally {
      s.destroy();
    }
  });

  test('without the flag (keepalive-idle-close), a FIN during the idle wait closes at once, as before', async () => {
    const s = openSession({ port: up.http.port, allowHalfOpen: true });
    try {
      await s.connected;
      s.write(GET('/keepalive-idle-close?idleMs=5000'));
      await s.waitFor((b) => b.includes('ok\n'), 1000);
      const sentFinAt = s.now();
      s.socket.end();
      const end = await s.waitEnd(1000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(end === 'timeout' ? Infinity : end.atMs - sentFinAt).toBeLessThan(500);
    } finally {
      s.destroy();
    }
  });
});
