/**
 * Fuzz: the DNS responder (src/dns/responder.ts) on a real port. Random datagrams over UDP and
 * random length-prefixed messages over TCP, many of them valid queries with a few bytes changed:
 * whatever it answers decodes as a DNS response to that query, a TCP connection ends once the
 * client has, and a valid query right after still gets its correct answer. A throw inside the
 * responder would surface as an unhandled error of this test file.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDnsResponder, type StartedDnsResponder } from '../../src/dns/responder.js';
import type { DnsBehavior } from '../../src/faults/fault.js';
import { fuzz, timeout } from './settings.js';

const RECORDS: Record<string, DnsBehavior> = {
  ok: { kind: 'answer', a: ['127.0.0.2'], aaaa: ['fd00::2'], ttl: 7 },
  nxdomain: { kind: 'nxdomain' },
  servfail: { kind: 'servfail' },
  nodata: { kind: 'nodata' },
  silent: { kind: 'silent' },
  big: { kind: 'answer', a: Array.from({ length: 80 }, (_, i) => `10.2.${i}.1`) },
  flap: { kind: 'flap', phases: [{ forMs: 5, answer: { kind: 'answer' } }, { forMs: 5, answer: { kind: 'nxdomain' } }] },
  'leaf.nested': { kind: 'answer' },
};

let dnsr: StartedDnsResponder;
beforeAll(async () => {
  dnsr = await startDnsResponder({ records: RECORDS });
});
afterAll(async () => {
  await dnsr?.close();
});

// ---- inputs -------------------------------------------------------------------------------------

const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const name = fc.oneof(
  fc.constantFrom(...Object.keys(RECORDS), 'nested', 'missing').map((l) => `${l}.badgateway.test`),
  fc.constantFrom('badgateway.test', 'BadGateway.TEST', 'example.com', '.', '', 'test', 'x.badgateway.test.evil', `${'a'.repeat(63)}.badgateway.test`),
  fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => `${ls.join('.')}.badgateway.test`),
  fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')),
);
const qtype = fc.constantFrom('A', 'AAAA', 'ANY', 'SOA', 'TXT', 'MX', 'CNAME', 'NS', 'PTR', 'SRV', 'OPT', 'AXFR', 'CAA') as fc.Arbitrary<'A'>;
const qclass = fc.constantFrom('IN', 'IN', 'CH', 'ANY', 'HS') as fc.Arbitrary<'IN'>;

/** A query dns-packet can encode: sometimes several questions, another opcode, EDNS with any buffer size, or QR set. */
const query: fc.Arbitrary<Buffer> = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.oneof(fc.constant(dnsPacket.RECURSION_DESIRED), fc.integer({ min: 0, max: 0xffff })),
    questions: fc.array(fc.record({ name, type: qtype, class: qclass }), { minLength: 0, maxLength: 3 }),
    edns: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
  })
  .map(({ id, flags, questions, edns }) => {
    const packet: Packet = {
      type: 'query',
      id,
      flags,
      questions,
      additionals: edns === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } as never],
    };
    try {
      return dnsPacket.encode(packet);
    } catch {
      // A name dns-packet refuses to encode (too long a label): the plain query stands in.
      return dnsPacket.encode({ type: 'query', id, flags, questions: [{ name: 'ok.badgateway.test', type: 'A' }] });
    }
  });

/** A few bytes changed: flipped bits, section counts set high, a cut, junk appended, a compression pointer that loops. */
const damaged = fc
  .tuple(
    query,
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant('flip' as const), fc.nat(), fc.integer({ min: 1, max: 255 })),
        fc.tuple(fc.constant('count' as const), fc.integer({ min: 2, max: 11 }), fc.integer({ min: 0, max: 255 })),
        fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant(0)),
        fc.tuple(fc.constant('junk' as const), fc.nat({ max: 40 }), fc.integer({ min: 0, max: 255 })),
        fc.tuple(fc.constant('loop' as const), fc.nat(), fc.constant(0)),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([q, edits]) => {
    let b = Buffer.from(q);
    for (const [op, at, v] of edits) {
      if (b.length === 0) break;
      if (op === 'flip') b[at % b.length]! ^= v;
      else if (op === 'count') b[Math.min(at, b.length - 1)] = v;
      else if (op === 'cut') b = b.subarray(0, at % (b.length + 1));
      else if (op === 'junk') b = Buffer.concat([b, Buffer.alloc(at, v)]);
      else {
        // A pointer at its own offset: a decoder that follows it without a limit never returns.
        const p = 12 + (at % Math.max(1, b.length - 13));
        if (p + 1 < b.length) b.writeUInt16BE(0xc000 | p, p);
      }
    }
    return b;
  });

const message = fc.oneof({ weight: 2, arbitrary: damaged }, { weight: 2, arbitrary: query }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) });

// ---- checks -------------------------------------------------------------------------------------

/** The answer `ok.badgateway.test` must get, whatever came before. */
function checkProbeAnswer(r: DecodedPacket, id: number): void {
  expect(r.id).toBe(id);
  expect(r.type).toBe('response');
  expect((r.flags ?? 0) & 0xf, 'rcode').toBe(0);
  expect((r.answers as Array<{ type: string; data: unknown; ttl?: number }> | undefined)?.map((a) => [a.type, a.data, a.ttl])).toEqual([['A', '127.0.0.2', 7]]);
}

function probe(id: number): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'ok.badgateway.test', type: 'A' }] });
}

/** What any response to `sent` must be: a decodable response with its id, within the UDP size it may use. */
function checkResponse(res: Buffer, sent: Buffer, transport: 'udp' | 'tcp'): void {
  const r = dnsPacket.decode(res);
  expect(r.type).toBe('response');
  expect(r.id).toBe(sent.readUInt16BE(0));
  if (transport === 'udp') expect(res.length).toBeLessThanOrEqual(1232);
}

function udpRound(sent: Buffer, probeId: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock: UdpSocket = createSocket('udp4');
    const others: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no answer to a valid query within 2 s after the fuzz datagram'));
    }, 2000);
    sock.on('error', reject);
    sock.on('message', (msg) => {
      // The probe goes out after the fuzz datagram, on loopback in order, so it answers last.
      if (msg.length >= 2 && msg.readUInt16BE(0) === probeId && dnsPacket.decode(msg).questions?.[0]?.name === 'ok.badgateway.test') {
        clearTimeout(timer);
        sock.close();
        try {
          checkProbeAnswer(dnsPacket.decode(msg), probeId);
          resolve(others);
        } catch (err) {
          reject(err);
        }
        return;
      }
      others.push(msg);
    });
    sock.send(sent, dnsr.port, '127.0.0.1', (err) => {
      if (err) return reject(err);
      sock.send(probe(probeId), dnsr.port, '127.0.0.1');
    });
  });
}

interface TcpResult {
  readonly responses: Buffer[];
  /** Bytes after the last whole frame. */
  readonly partial: number;
  readonly end: 'closed' | 'timeout';
}

/** Writes `stream`, half-closes, and collects framed responses until the responder closes too. */
function tcpRound(stream: Buffer, timeoutMs = 3000): Promise<TcpResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: dnsr.port });
    const responses: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const done = (end: TcpResult['end']) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, partial: buf.length, end });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        responses.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
    });
    socket.on('close', () => done('closed'));
    socket.on('connect', () => socket.end(stream));
  });
}

function frame(m: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(Math.min(m.length, 0xffff));
  return Buffer.concat([len, m.subarray(0, 0xffff)]);
}

/** A TCP stream: framed messages, some frames with a length that lies, some raw bytes between them. */
const tcpStream = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: message.map((m) => ({ kind: 'frame' as const, bytes: frame(m), msg: m })) },
      { weight: 1, arbitrary: fc.tuple(message, fc.integer({ min: 0, max: 0xffff })).map(([m, len]) => ({ kind: 'lie' as const, bytes: Buffer.concat([Buffer.from([len >> 8, len & 0xff]), m]), msg: m })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 30 }).map((a) => ({ kind: 'raw' as const, bytes: Buffer.from(a), msg: undefined })) },
    ),
    { minLength: 1, maxLength: 5 },
  );

let nextId = 1;
const probeId = () => (nextId = (nextId % 0xfff0) + 1);

describe('fuzz: the DNS responder', () => {
  test(
    'UDP: any datagram gets a well-formed response or none, and a valid query right after gets its answer',
    async () => {
      await fc.assert(
        fc.asyncProperty(message, async (sent) => {
          for (const res of await udpRound(sent, probeId())) checkResponse(res, sent, 'udp');
        }),
        // Names dns-packet cannot re-encode as received, once echoed as responses nobody could decode:
        // a label of 63 bytes that are not UTF-8, and (in the second of two questions) a label that starts with a dot.
        fuzz(600, [
          [Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 0xe1]), Buffer.alloc(62, 'a'), Buffer.from('\x0abadgateway\x04test\x00\x00\x01\x00\x01', 'latin1')])],
          [Buffer.from([
            0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 4, 45, 48, 48, 45, 2, 48, 45, 5, 45, 45, 97, 48, 45, 12, 45, 45, 48, 48, 48, 48, 45, 97, 45, 48, 48,
            97, 0, 0, 1, 0, 1, 4, 108, 101, 97, 102, 6, 110, 101, 115, 116, 101, 100, 10, 46, 97, 100, 103, 97, 116, 101, 119, 97, 121, 4, 116,
            101, 115, 116, 0, 0, 1, 0, 1, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0,
          ])],
        ] as Array<[Buffer]>),
      );
    },
    timeout(30_000),
  );

  test(
    'TCP: framed responses to each query until the framing breaks, the connection ends after the client’s, and a new one answers',
    async () => {
      await fc.assert(
        fc.asyncProperty(tcpStream, async (parts) => {
          const r = await tcpRound(Buffer.concat(parts.map((p) => p.bytes)));
          expect(r.end, 'the responder kept the connection open after the client half-closed').toBe('closed');
          expect(r.partial, 'a response frame was cut short').toBe(0);
          // When every part is a whole frame, each response answers one of them, in order.
          if (parts.every((p) => p.kind === 'frame')) {
            let i = 0;
            for (const res of r.responses) {
              while (i < parts.length && parts[i]!.msg!.length >= 2 && parts[i]!.msg!.readUInt16BE(0) !== res.readUInt16BE(0)) i++;
              expect(i, 'a response that answers none of the frames sent').toBeLessThan(parts.length);
              checkResponse(res, parts[i]!.msg!, 'tcp');
              i++;
            }
          } else for (const res of r.responses) expect(dnsPacket.decode(res).type).toBe('response');
          const id = probeId();
          const after = await tcpRound(frame(probe(id)));
          expect(after.responses.length).toBe(1);
          checkProbeAnswer(dnsPacket.decode(after.responses[0]!), id);
        }),
        fuzz(300),
      );
    },
    timeout(30_000),
  );
});
