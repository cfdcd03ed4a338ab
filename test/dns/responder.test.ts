import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { connect, createServer, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError, StartError } from '../../src/errors.js';
import type { DnsBehavior } from '../../src/faults/fault.js';
import { startDnsResponder, type DnsQueryEvent, type StartedDnsResponder } from '../../src/dns/responder.js';

/** Node's own resolver (c-ares), the same one a Node gateway would use; one try so failures are fast. */
function resolverFor(port: number): dns.Resolver {
  const r = new dns.Resolver({ timeout: 300, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

function query(name: string, type: 'A' | 'AAAA' = 'A', id = 1): Packet {
  return { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] };
}

function udpExchange(port: number, message: Buffer, timeoutMs = 500): Promise<DecodedPacket | 'timeout'> {
  return new Promise((resolve, reject) => {
    const sock: UdpSocket = createSocket('udp4');
    sock.on('error', reject);
    const timer = setTimeout(() => {
      sock.close();
      resolve('timeout');
    }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(msg));
    });
    sock.send(message, port, '127.0.0.1');
  });
}

/** A raw TCP client that splits the length-prefixed stream into decoded responses. */
function tcpClient(port: number): Promise<{ socket: Socket; responses: DecodedPacket[]; ended: Promise<void>; next(count: number, timeoutMs?: number): Promise<DecodedPacket[]> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    const responses: DecodedPacket[] = [];
    let buf = Buffer.alloc(0);
    let waiter: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        responses.push(dnsPacket.decode(buf.subarray(2, 2 + len)));
        buf = buf.subarray(2 + len);
      }
      waiter?.();
    });
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    const next = (count: number, timeoutMs = 1000) =>
      new Promise<DecodedPacket[]>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`only ${responses.length} of ${count} responses`)), timeoutMs);
        waiter = () => {
          if (responses.length >= count) {
            clearTimeout(timer);
            res(responses.slice(0, count));
          }
        };
        waiter();
      });
    socket.once('connect', () => resolve({ socket, responses, ended, next }));
    socket.once('error', reject);
  });
}

function canBind(port: number): Promise<boolean> {
  const udp = new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.on('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  const tcp = new Promise<boolean>((resolve) => {
    const s: Server = createServer();
    s.on('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return Promise.all([udp, tcp]).then(([u, t]) => u && t);
}

const RECORDS: Record<string, DnsBehavior> = {
  ok: { kind: 'answer' },
  pinned: { kind: 'answer', a: ['10.0.0.7', '10.0.0.8'], aaaa: ['fd00::7'], ttl: 30 },
  nxdomain: { kind: 'nxdomain' },
  servfail: { kind: 'servfail' },
  refused: { kind: 'refused' },
  nodata: { kind: 'nodata' },
  silent: { kind: 'silent' },
  'Mixed.BadGateway.Test.': { kind: 'answer', a: ['10.0.0.9'] },
  'leaf.nested': { kind: 'answer' },
  big: { kind: 'answer', a: Array.from({ length: 60 }, (_, i) => `10.1.${i}.1`) },
};

describe('with a real resolver', () => {
  let dnsr: StartedDnsResponder;
  let resolver: dns.Resolver;
  const events: DnsQueryEvent[] = [];

  beforeAll(async () => {
    dnsr = await startDnsResponder({ records: RECORDS, onQuery: (e) => events.push(e) });
    resolver = resolverFor(dnsr.port);
  });
  afterAll(async () => {
    await dnsr.close();
  });

  test('binds 127.0.0.1 and names labels under the zone', () => {
    expect(dnsr.host).toBe('127.0.0.1');
    expect(dnsr.port).toBeGreaterThan(0);
    expect(dnsr.zone).toBe('badgateway.test');
    expect(dnsr.nameFor('nxdomain')).toBe('nxdomain.badgateway.test');
    expect(dnsr.nameFor('x.badgateway.test')).toBe('x.badgateway.test');
  });

  test('answers A and AAAA with default addresses and TTL', async () => {
    expect(await resolver.resolve4(dnsr.nameFor('ok'), { ttl: true })).toEqual([{ address: '127.0.0.1', ttl: 1 }]);
    expect(await resolver.resolve6(dnsr.nameFor('ok'))).toEqual(['::1']);
  });

  test('answers explicit addresses and TTL', async () => {
    expect(await resolver.resolve4(dnsr.nameFor('pinned'), { ttl: true })).toEqual([
      { address: '10.0.0.7', ttl: 30 },
      { address: '10.0.0.8', ttl: 30 },
    ]);
    expect(await resolver.resolve6(dnsr.nameFor('pinned'))).toEqual(['fd00::7']);
  });

  test('each failure maps to the error code Node reports', async () => {
    // c-ares turns NXDOMAIN into ENOTFOUND, the same code getaddrinfo gives.
    await expect(resolver.resolve4(dnsr.nameFor('nxdomain'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4(dnsr.nameFor('no-such-record'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4(dnsr.nameFor('servfail'))).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(resolver.resolve4(dnsr.nameFor('refused'))).rejects.toMatchObject({ code: 'EREFUSED' });
    await expect(resolver.resolve4(dnsr.nameFor('nodata'))).rejects.toMatchObject({ code: 'ENODATA' });
    // An address record answers NOERROR with nothing for other types.
    await expect(resolver.resolveTxt(dnsr.nameFor('ok'))).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  test('silent sends nothing: the resolver times out', async () => {
    const started = performance.now();
    await expect(resolver.resolve4(dnsr.nameFor('silent'))).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('the apex and empty non-terminals exist (NODATA), and the apex has an SOA', async () => {
    await expect(resolver.resolve4('badgateway.test')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4(dnsr.nameFor('nested'))).rejects.toMatchObject({ code: 'ENODATA' });
    expect(await resolver.resolve4(dnsr.nameFor('leaf.nested'))).toEqual(['127.0.0.1']);
    expect(await resolver.resolveSoa('badgateway.test')).toMatchObject({ nsname: 'ns.badgateway.test', minttl: 1 });
  });

  test('names compare case-insensitively and ignore a trailing dot', async () => {
    expect(await resolver.resolve4('OK.BadGateway.TEST')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('ok.badgateway.test.')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('mixed.badgateway.test')).toEqual(['10.0.0.9']);
  });

  test('an answer too big for UDP is truncated and the resolver retries over TCP', async () => {
    const before = events.length;
    const answer = await resolver.resolve4(dnsr.nameFor('big'));
    expect(answer).toHaveLength(60);
    expect(events.slice(before).map((e) => e.transport)).toEqual(['udp', 'tcp']);
  });

  test('reports every query', async () => {
    const before = events.length;
    await expect(resolver.resolve4(dnsr.nameFor('nxdomain'))).rejects.toThrow();
    expect(events.slice(before)).toEqual([{ name: 'nxdomain.badgateway.test', type: 'A', transport: 'udp', outcome: 'nxdomain' }]);
  });

  test('setRecord changes the answer at runtime', async () => {
    const r = resolverFor(dnsr.port);
    await expect(r.resolve4(dnsr.nameFor('later'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    dnsr.setRecord('later', { kind: 'answer', a: ['10.2.0.1'] });
    expect(await r.resolve4(dnsr.nameFor('later'))).toEqual(['10.2.0.1']);
    dnsr.setRecord('LATER', { kind: 'servfail' });
    await expect(r.resolve4(dnsr.nameFor('later'))).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(() => dnsr.setRecord('bad', { kind: 'answer', a: ['not-an-ip'] })).toThrow(InputError);
  });

  test('a garbage UDP packet is ignored and the next query is answered', async () => {
    const before = events.length;
    expect(await udpExchange(dnsr.port, Buffer.from('\x01\x02garbage'), 200)).toBe('timeout');
    expect(events.slice(before)).toEqual([{ name: '', type: '', transport: 'udp', outcome: 'malformed' }]);
    expect(await resolver.resolve4(dnsr.nameFor('ok'))).toEqual(['127.0.0.1']);
  });

  test('raw UDP: AA on answers in the zone, the query id echoed', async () => {
    const res = await udpExchange(dnsr.port, dnsPacket.encode(query('nxdomain.badgateway.test', 'A', 4242)));
    if (res === 'timeout') throw new Error('no answer');
    expect(res).toMatchObject({ id: 4242, flag_qr: true, flag_aa: true, flag_rd: true, rcode: 'NXDOMAIN' });
    expect(res.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'badgateway.test' });
    const out = await udpExchange(dnsr.port, dnsPacket.encode(query('example.com')));
    expect(out).toMatchObject({ flag_aa: false, rcode: 'REFUSED' });
  });

  test('TCP: two queries in one write, split at an odd byte, get two answers', async () => {
    const c = await tcpClient(dnsr.port);
    const both = Buffer.concat([dnsPacket.streamEncode(query('ok.badgateway.test', 'A', 1)), dnsPacket.streamEncode(query('pinned.badgateway.test', 'AAAA', 2))]);
    c.socket.write(both.subarray(0, 1));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write(both.subarray(1));
    const [a, b] = await c.next(2);
    expect(a).toMatchObject({ id: 1, rcode: 'NOERROR', flag_aa: true, answers: [{ type: 'A', data: '127.0.0.1' }] });
    expect(b).toMatchObject({ id: 2, rcode: 'NOERROR', answers: [{ type: 'AAAA', data: 'fd00::7', ttl: 30 }] });
    c.socket.end();
    await c.ended;
  });

  test('TCP: garbage closes that connection only', async () => {
    const c = await tcpClient(dnsr.port);
    c.socket.write(Buffer.from([0, 3, 1, 2, 3]));
    await c.ended;
    expect(await resolver.resolve4(dnsr.nameFor('ok'))).toEqual(['127.0.0.1']);
  });
});

test('flap cycles through its phases on the given clock', async () => {
  let nowMs = 5_000;
  const dnsr = await startDnsResponder({
    records: new Map<string, DnsBehavior>([
      ['flapping', { kind: 'flap', phases: [{ forMs: 1000, answer: { kind: 'answer', a: ['10.3.0.1'] } }, { forMs: 500, answer: { kind: 'nxdomain' } }] }],
    ]),
    now: () => nowMs,
  });
  try {
    const r = resolverFor(dnsr.port);
    const name = dnsr.nameFor('flapping');
    expect(await r.resolve4(name)).toEqual(['10.3.0.1']);
    nowMs += 999;
    expect(await r.resolve4(name)).toEqual(['10.3.0.1']);
    nowMs += 1;
    await expect(r.resolve4(name)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    nowMs += 500; // 1500: back to the first phase
    expect(await r.resolve4(name)).toEqual(['10.3.0.1']);
    nowMs += 3 * 1500 + 1200; // several cycles later, inside the second phase
    await expect(r.resolve4(name)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  } finally {
    await dnsr.close();
  }
});

test("setRecord starts the record's flap clock again; other records keep theirs", async () => {
  let nowMs = 0;
  const flap: DnsBehavior = { kind: 'flap', phases: [{ forMs: 2000, answer: { kind: 'answer', a: ['10.3.0.2'] } }, { forMs: 2000, answer: { kind: 'nxdomain' } }] };
  const dnsr = await startDnsResponder({ records: { a: flap, b: flap }, now: () => nowMs });
  try {
    const r = resolverFor(dnsr.port);
    nowMs = 3000; // both records in their NXDOMAIN phase, counted from the start
    await expect(r.resolve4(dnsr.nameFor('a'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // The same behaviour set again: a is in its first phase for 2 s from now, b is not touched.
    dnsr.setRecord('a', flap);
    expect(await r.resolve4(dnsr.nameFor('a'))).toEqual(['10.3.0.2']);
    await expect(r.resolve4(dnsr.nameFor('b'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    nowMs = 4999;
    expect(await r.resolve4(dnsr.nameFor('a'))).toEqual(['10.3.0.2']);
    expect(await r.resolve4(dnsr.nameFor('b'))).toEqual(['10.3.0.2']);
    nowMs = 5000;
    await expect(r.resolve4(dnsr.nameFor('a'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // Set as if 2.5 s ago (a request planned 2.5 s after the first, whenever it really goes out):
    // a is in its NXDOMAIN phase for the next 1.5 s, then resolves again.
    dnsr.setRecord('a', flap, { elapsedMs: 2500 });
    await expect(r.resolve4(dnsr.nameFor('a'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    nowMs = 6500;
    expect(await r.resolve4(dnsr.nameFor('a'))).toEqual(['10.3.0.2']);
  } finally {
    await dnsr.close();
  }
});

test('a custom zone answers only inside it', async () => {
  const dnsr = await startDnsResponder({ zone: 'Example.Internal.', records: { api: { kind: 'answer', a: ['10.4.0.1'] } }, defaultTtl: 0 });
  try {
    const r = resolverFor(dnsr.port);
    expect(dnsr.zone).toBe('example.internal');
    expect(await r.resolve4('api.example.internal', { ttl: true })).toEqual([{ address: '10.4.0.1', ttl: 0 }]);
    await expect(r.resolve4('api.badgateway.test')).rejects.toMatchObject({ code: 'EREFUSED' });
  } finally {
    await dnsr.close();
  }
});

test('invalid records fail at start with an InputError', async () => {
  await expect(startDnsResponder({ records: { f: { kind: 'flap', phases: [] } } })).rejects.toThrow(InputError);
  await expect(startDnsResponder({ records: { 'a..b': { kind: 'nxdomain' } } })).rejects.toMatchObject({ code: 'BG_DNS_BAD_NAME' });
});

test('a port in use (UDP or TCP) is a StartError naming the address', async () => {
  const holder = createSocket('udp4');
  holder.on('error', () => {});
  await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
  const udpPort = holder.address().port;
  try {
    const err = await startDnsResponder({ port: udpPort, records: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err).toMatchObject({ code: 'BG_ADDRESS_IN_USE' });
    expect((err as Error).message).toContain(`127.0.0.1:${udpPort}`);
    expect((err as Error).message).toContain('--dns-port');
  } finally {
    await new Promise<void>((r) => holder.close(() => r()));
  }

  const tcpHolder = createServer();
  tcpHolder.on('error', () => {});
  await new Promise<void>((r) => tcpHolder.listen(0, '127.0.0.1', () => r()));
  const tcpPort = (tcpHolder.address() as { port: number }).port;
  try {
    const err = await startDnsResponder({ port: tcpPort, records: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BG_ADDRESS_IN_USE' });
    expect((err as Error).message).toContain(`127.0.0.1:${tcpPort}`);
    expect((err as Error).message).toContain('TCP');
  } finally {
    await new Promise<void>((r) => tcpHolder.close(() => r()));
  }
  // The UDP socket bound before TCP failed was released.
  expect(await canBind(tcpPort)).toBe(true);
});

test('close() ends silent TCP connections, frees the port and is idempotent', async () => {
  const dnsr = await startDnsResponder({ records: { silent: { kind: 'silent' } } });
  const c = await tcpClient(dnsr.port);
  c.socket.write(dnsPacket.streamEncode(query('silent.badgateway.test')));
  const outcome = await Promise.race([c.ended.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 150))]);
  expect(outcome).toBe('open');
  expect(c.responses).toEqual([]);
  await Promise.all([dnsr.close(), dnsr.close()]);
  await c.ended;
  await dnsr[Symbol.asyncDispose]();
  expect(await canBind(dnsr.port)).toBe(true);
});
