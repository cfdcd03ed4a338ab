/**
 * DNS over TCP cannot be used to hold the responder's sockets: idle connections (nothing sent,
 * or a length prefix and nothing more) close after the idle timeout, silent names included, and
 * connections past the cap are closed at accept. Raw sockets, short timeouts.
 */
import { connect, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, test } from 'vitest';
import { DNS_MAX_TCP_CONNECTIONS, DNS_TCP_IDLE_TIMEOUT_MS, startDnsResponder, type DnsLimitEvent, type DnsQueryEvent, type StartedDnsResponder } from '../../src/dns/responder.js';

const IDLE_MS = 300;
let dnsr: StartedDnsResponder | undefined;
afterEach(async () => {
  await dnsr?.close();
  dnsr = undefined;
});

interface Conn {
  readonly socket: Socket;
  /** Our end's port, kept: a closed socket forgets it. */
  readonly port: number;
  readonly bytes: () => number;
  /** Milliseconds from connect to the server closing it, or 'open' after waitMs. */
  closedWithin(waitMs: number): Promise<number | 'open'>;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = 0;
    let openedAt = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => {});
    const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - openedAt)));
    socket.once('connect', () => {
      openedAt = performance.now();
      resolve({
        socket,
        port: socket.localPort!,
        bytes: () => received,
        closedWithin: (waitMs) => Promise.race([closed, new Promise<'open'>((r) => setTimeout(() => r('open'), waitMs))]),
      });
    });
    socket.once('error', reject);
  });
}

const query = (name: string, id = 1) => dnsPacket.streamEncode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });

async function start(extra: { maxTcpConnections?: number } = {}) {
  const limits: DnsLimitEvent[] = [];
  const queries: DnsQueryEvent[] = [];
  dnsr = await startDnsResponder({
    records: { ok: { kind: 'answer' }, silent: { kind: 'silent' } },
    tcpIdleTimeoutMs: IDLE_MS,
    onLimit: (e) => limits.push(e),
    onQuery: (e) => queries.push(e),
    ...extra,
  });
  return { dnsr, limits, queries };
}

describe('idle timeout', () => {
  test('the defaults are documented numbers', () => {
    expect(DNS_TCP_IDLE_TIMEOUT_MS).toBe(10_000);
    expect(DNS_MAX_TCP_CONNECTIONS).toBe(256);
  });

  test('a connection that sends nothing is closed after the idle timeout, with an event', async () => {
    const { dnsr, limits } = await start();
    const c = await open(dnsr.port);
    const closedAfter = await c.closedWithin(IDLE_MS * 6);
    expect(closedAfter).not.toBe('open');
    expect(closedAfter).toBeGreaterThanOrEqual(IDLE_MS - 20);
    expect(limits).toEqual([{ limit: 'tcp-idle', idleMs: IDLE_MS, remote: `127.0.0.1:${c.port}` }]);
  });

  test('a length prefix and nothing more is idle; so is a message sent a byte at a time', async () => {
    const { dnsr } = await start();
    const prefix = await open(dnsr.port);
    prefix.socket.write(Buffer.from([0, 40]));
    const dribble = await open(dnsr.port);
    const whole = query('ok.badgateway.test');
    // Half the message, one byte every IDLE_MS / 6: bytes keep arriving, the message never does.
    let i = 0;
    const timer = setInterval(() => {
      if (i < whole.length / 2 && !dribble.socket.destroyed) dribble.socket.write(whole.subarray(i, ++i));
    }, IDLE_MS / 6);
    try {
      const [a, b] = await Promise.all([prefix.closedWithin(IDLE_MS * 6), dribble.closedWithin(IDLE_MS * 6)]);
      expect(a).not.toBe('open');
      expect(b).not.toBe('open');
      expect(b).toBeLessThan(IDLE_MS * 3);
      expect(i).toBeGreaterThan(2);
    } finally {
      clearInterval(timer);
    }
  });

  test('a connection that keeps asking stays open and is answered', async () => {
    const { dnsr } = await start();
    const c = await open(dnsr.port);
    for (let id = 1; id <= 8; id++) {
      c.socket.write(query('ok.badgateway.test', id));
      await new Promise((r) => setTimeout(r, IDLE_MS / 3));
    }
    // Eight queries over 2.7 idle periods: still open, eight answers.
    expect(c.socket.destroyed).toBe(false);
    expect(c.bytes()).toBeGreaterThan(8 * 30);
    expect(await c.closedWithin(IDLE_MS * 6)).not.toBe('open');
  });

  test('silent stays silent, and its connection still closes once idle', async () => {
    const { dnsr, queries, limits } = await start();
    const c = await open(dnsr.port);
    c.socket.write(query('silent.badgateway.test'));
    const closedAfter = await c.closedWithin(IDLE_MS * 6);
    expect(closedAfter).not.toBe('open');
    expect(closedAfter).toBeGreaterThanOrEqual(IDLE_MS - 20);
    expect(c.bytes()).toBe(0);
    expect(queries).toEqual([{ name: 'silent.badgateway.test', type: 'A', transport: 'tcp', outcome: 'silent' }]);
    expect(limits.map((l) => l.limit)).toEqual(['tcp-idle']);
  });
});

describe('connection cap', () => {
  test('connections past the cap are closed at accept, with an event; a freed slot is usable again', async () => {
    const { dnsr, limits } = await start({ maxTcpConnections: 3 });
    const held = await Promise.all([open(dnsr.port), open(dnsr.port), open(dnsr.port)]);
    // The server accepts asynchronously: let it see the three before the fourth arrives.
    await new Promise((r) => setTimeout(r, 50));
    const extra = await open(dnsr.port);
    const closedAfter = await extra.closedWithin(IDLE_MS / 2);
    expect(closedAfter).not.toBe('open');
    expect(limits).toEqual([{ limit: 'tcp-connections', max: 3, remote: `127.0.0.1:${extra.port}` }]);
    for (const h of held) expect(h.socket.destroyed).toBe(false);

    held[0]!.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await open(dnsr.port);
    again.socket.write(query('ok.badgateway.test'));
    await new Promise((r) => setTimeout(r, 100));
    expect(again.bytes()).toBeGreaterThan(30);
  });

  test('bad limits are refused before anything listens', async () => {
    await expect(startDnsResponder({ records: {}, tcpIdleTimeoutMs: 0 })).rejects.toMatchObject({ code: 'BG_BAD_OPTION' });
    await expect(startDnsResponder({ records: {}, tcpIdleTimeoutMs: 2 ** 31 })).rejects.toMatchObject({ code: 'BG_BAD_OPTION' });
    await expect(startDnsResponder({ records: {}, maxTcpConnections: 1.5 })).rejects.toMatchObject({ code: 'BG_BAD_OPTION' });
  });
});
