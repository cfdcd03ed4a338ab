/**
 * The DNS responder for the test zone: an authoritative server on UDP and TCP
 * (same port) that answers each name with the behaviour it was given, so a
 * gateway resolving an upstream by name meets NXDOMAIN, SERVFAIL, silence,
 * NODATA or a flapping record. The decisions live in ./answer.ts.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { InputError, StartError } from '../errors.js';
import type { DnsBehavior } from '../faults/fault.js';
import { decide, DnsZone, encodeResponse, udpLimit, type DnsDecision, type DnsOutcome } from './answer.js';

export type { DnsOutcome } from './answer.js';

export interface DnsQueryEvent {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
  readonly outcome: DnsOutcome;
}

export interface DnsResponderOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** UDP and TCP share it. Default 0: a free port, the same one for both. */
  port?: number;
  /** Default 'badgateway.test'. Names outside it are REFUSED. */
  zone?: string;
  /** Keyed by the label under the zone ('nxdomain') or a full name in the zone. */
  records: ReadonlyMap<string, DnsBehavior> | Readonly<Record<string, DnsBehavior>>;
  /** What `{ kind: 'answer' }` without a/aaaa returns. Default A 127.0.0.1, AAAA ::1. */
  defaultAddresses?: { a?: string[]; aaaa?: string[] };
  /** Seconds. Default 1: gateways that cache DNS should see a change quickly. */
  defaultTtl?: number;
  /** Milliseconds, for flap phases (a record's flap starts when it is set). Default performance.now. */
  now?: () => number;
  onQuery?: (e: DnsQueryEvent) => void;
  /**
   * Milliseconds a TCP connection may go without a complete query arriving before it is closed
   * (RFC 7766 section 6.2.3). Partial bytes do not count: a length prefix and nothing more is
   * idle. Queries to a silent name count, but are not answered. Default 10,000.
   */
  tcpIdleTimeoutMs?: number;
  /** TCP connections open at once; more are closed at accept (reported to onLimit). Default 256. */
  maxTcpConnections?: number;
  /** A guard acted: a TCP connection refused at the cap, or closed for being idle. */
  onLimit?: (e: DnsLimitEvent) => void;
}

export type DnsLimitEvent =
  | { readonly limit: 'tcp-connections'; readonly max: number; readonly remote: string }
  | { readonly limit: 'tcp-idle'; readonly idleMs: number; readonly remote: string };

export interface StartedDnsResponder extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  /** 'nxdomain' → 'nxdomain.badgateway.test'. */
  nameFor(label: string): string;
  /**
   * Takes effect for the next query, and a flap starts its first phase now, even when the name
   * had this very behaviour: setting a record again restarts its clock. Records given at start
   * start with the responder. With `elapsedMs`, the record answers as if it had been set that
   * long ago: a flap's phase follows a schedule of the caller's (request i of a sequence meets the
   * phase of its planned time, however late it really goes out).
   */
  setRecord(label: string, behavior: DnsBehavior, opts?: { readonly elapsedMs?: number }): void;
  /** Closes both servers and every TCP connection (silent ones included). Idempotent. */
  close(): Promise<void>;
}

/** With port 0 the free UDP port may be taken on TCP; a fresh UDP port is tried this many times. */
const PORT_ZERO_ATTEMPTS = 8;
/** A TCP message is at most 65535 bytes plus its 2-byte length. */
const TCP_LENGTH_BYTES = 2;
/**
 * Longer than the per-try timeout of common stub resolvers (glibc, Go and c-ares: 5 s or less),
 * so a client waiting on a silent name gives up on its own before we close; still "seconds",
 * as RFC 7766 section 6.2.3 asks of a server's idle timeout.
 */
export const DNS_TCP_IDLE_TIMEOUT_MS = 10_000;
/** Gateways use TCP only for answers truncated on UDP; hundreds at once is already hostile. */
export const DNS_MAX_TCP_CONNECTIONS = 256;

export async function startDnsResponder(opts: DnsResponderOptions): Promise<StartedDnsResponder> {
  const host = opts.host ?? '127.0.0.1';
  const requestedPort = opts.port ?? 0;
  const now = opts.now ?? (() => performance.now());
  const idleMs = opts.tcpIdleTimeoutMs ?? DNS_TCP_IDLE_TIMEOUT_MS;
  const maxTcp = opts.maxTcpConnections ?? DNS_MAX_TCP_CONNECTIONS;
  if (!(idleMs > 0 && idleMs <= 2 ** 31 - 1)) throw new InputError('BG_BAD_OPTION', `tcpIdleTimeoutMs must be between 1 and ${2 ** 31 - 1} ms, not ${idleMs}`);
  if (!(Number.isInteger(maxTcp) && maxTcp > 0)) throw new InputError('BG_BAD_OPTION', `maxTcpConnections must be a positive whole number, not ${maxTcp}`);
  const zone = new DnsZone({
    zone: opts.zone ?? 'badgateway.test',
    defaultAddresses: { a: opts.defaultAddresses?.a ?? ['127.0.0.1'], aaaa: opts.defaultAddresses?.aaaa ?? ['::1'] },
    defaultTtl: opts.defaultTtl ?? 1,
  });
  const entries = opts.records instanceof Map ? [...opts.records] : Object.entries(opts.records as Readonly<Record<string, DnsBehavior>>);
  const startedAt = now();
  for (const [label, behavior] of entries) zone.set(label, behavior, startedAt);

  const { udp, tcp } = await bindBoth(host, requestedPort);
  const port = udp.address().port;
  const connections = new Set<Socket>();
  let closing = false;
  let closed: Promise<void> | undefined;

  /** A broken event consumer must not take the responder (and the run) down with it. */
  const safely = <E>(fn: ((e: E) => void) | undefined, e: E) => {
    if (!fn) return;
    try {
      fn(e);
    } catch {
      /* ignored on purpose */
    }
  };
  const report = (e: DnsQueryEvent) => safely(opts.onQuery, e);
  const remoteOf = (address: string | undefined, port: number | undefined) => `${address?.includes(':') ? `[${address}]` : (address ?? '?')}:${port ?? '?'}`;

  /** undefined: the bytes are not a DNS query we can answer at all. */
  const handle = (message: Buffer, transport: 'udp' | 'tcp'): { decision: DnsDecision; query: DecodedPacket } | undefined => {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      report({ name: '', type: '', transport, outcome: 'malformed' });
      return undefined;
    }
    // A response sent to us is not a question; answering it could start a loop.
    if (query.flag_qr) {
      report({ name: '', type: '', transport, outcome: 'malformed' });
      return undefined;
    }
    const decision = decide(zone, query, now());
    report({ name: decision.name, type: decision.type, transport, outcome: decision.outcome });
    return { decision, query };
  };

  udp.on('message', (message, rinfo) => {
    const handled = handle(message, 'udp');
    if (!handled?.decision.response) return;
    let bytes: Buffer;
    try {
      bytes = encodeResponse(handled.decision.response, udpLimit(handled.query));
    } catch {
      return;
    }
    // A client that went away is its own problem; the error is not ours to raise.
    udp.send(bytes, rinfo.port, rinfo.address, () => {});
  });

  // Node closes connections past the cap right at accept and says so with 'drop'.
  tcp.maxConnections = maxTcp;
  tcp.on('drop', (d) => safely(opts.onLimit, { limit: 'tcp-connections', max: maxTcp, remote: remoteOf(d?.remoteAddress, d?.remotePort) }));

  tcp.on('connection', (socket) => {
    socket.on('error', () => {
      // Resets from clients are routine; the socket closes itself.
    });
    if (closing) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    const remote = remoteOf(socket.remoteAddress, socket.remotePort);
    // Not socket.setTimeout: any byte would restart it, and a message sent a byte at a time never ends.
    // Silent names are no exception: the fault is not answering, not holding the socket forever.
    let idle: NodeJS.Timeout | undefined;
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        safely(opts.onLimit, { limit: 'tcp-idle', idleMs, remote });
        socket.destroy();
      }, idleMs);
    };
    restartIdle();
    socket.on('close', () => {
      clearTimeout(idle);
      connections.delete(socket);
    });
    // Chunks are joined once per message, not once per chunk: a message sent a byte at a time
    // would otherwise be copied 65,535 times.
    let parts: Buffer[] = [];
    let size = 0;
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      while (size >= TCP_LENGTH_BYTES) {
        if (parts[0]!.length < TCP_LENGTH_BYTES) parts = [Buffer.concat(parts, size)];
        const length = parts[0]!.readUInt16BE(0);
        if (size < TCP_LENGTH_BYTES + length) break;
        const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
        const message = all.subarray(TCP_LENGTH_BYTES, TCP_LENGTH_BYTES + length);
        const rest = all.subarray(TCP_LENGTH_BYTES + length);
        parts = rest.length === 0 ? [] : [rest];
        size = rest.length;
        restartIdle();
        const handled = length === 0 ? undefined : handle(message, 'tcp');
        if (!handled) {
          // After garbage the framing cannot be trusted any more.
          socket.destroy();
          return;
        }
        // Silent: no answer; the connection stays open until the idle timeout, like a server that hung.
        if (!handled.decision.response) continue;
        let flushed: boolean;
        try {
          flushed = socket.write(dnsPacket.streamEncode(handled.decision.response));
        } catch {
          socket.destroy();
          return;
        }
        // A client that queries without reading the answers waits in the kernel, not in our memory.
        if (!flushed && !socket.isPaused()) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      }
    });
  });

  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      for (const socket of connections) socket.destroy();
      connections.clear();
      await Promise.all([closeUdp(udp), closeTcp(tcp)]);
    })();
    return closed;
  };

  return {
    host: udp.address().address,
    port,
    zone: zone.zone,
    nameFor: (label) => zone.nameFor(label),
    setRecord: (label, behavior, o) => zone.set(label, behavior, now() - (o?.elapsedMs ?? 0)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function bindBoth(host: string, port: number): Promise<{ udp: UdpSocket; tcp: Server }> {
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(host, port);
    try {
      const tcp = await listenTcp(host, udp.address().port);
      return { udp, tcp };
    } catch (err) {
      await closeUdp(udp);
      const retry = port === 0 && attempt < PORT_ZERO_ATTEMPTS && err instanceof StartError && err.code === 'BG_ADDRESS_IN_USE';
      if (!retry) throw err;
    }
  }
}

function startError(err: NodeJS.ErrnoException, transport: 'UDP' | 'TCP', host: string, port: number): StartError {
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const what = `the DNS responder (${transport})`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new StartError(
        'BG_ADDRESS_IN_USE',
        `cannot listen on ${addr} for ${what}: the port is already in use. Stop the process that holds it (\`ss -${transport === 'UDP' ? 'u' : 't'}lnp 'sport = :${port}'\` shows it) or pick another --dns-port (0 picks a free one).`,
        { cause: err },
      );
    case 'EACCES':
      return new StartError('BG_ADDRESS_DENIED', `cannot listen on ${addr} for ${what}: permission denied. Port 53 and other ports below 1024 need privileges; pick a higher --dns-port.`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new StartError('BG_ADDRESS_UNAVAILABLE', `cannot listen on ${addr} for ${what}: no local interface has that address.`, { cause: err });
    default:
      return new StartError('BG_LISTEN_FAILED', `cannot listen on ${addr} for ${what}: ${err.message}`, { cause: err });
  }
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    // Errors after bind (ICMP noise on some platforms) must not crash the process.
    udp.on('error', () => {});
    const onError = (err: NodeJS.ErrnoException) => {
      udp.off('listening', onListening);
      void closeUdp(udp);
      reject(startError(err, 'UDP', host, port));
    };
    const onListening = () => {
      udp.off('error', onError);
      resolve(udp);
    };
    udp.once('error', onError);
    udp.once('listening', onListening);
    udp.bind({ address: host, port, exclusive: true });
  });
}

function listenTcp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', () => {});
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(startError(err, 'TCP', host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

function closeUdp(udp: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      udp.close(() => resolve());
    } catch {
      // Already closed.
      resolve();
    }
  });
}

function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
