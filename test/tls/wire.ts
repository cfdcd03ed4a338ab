/**
 * A TLS client for the wire tests, with a TCP relay in front of the server that records what the
 * server sent as TLS records (content type, and a plaintext alert's description) and how its
 * stream ended (FIN or RST). Node's TLS client alone cannot tell a close_notify from a bare FIN.
 */
import { connect as tcpConnect, createServer, type Server } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';

export interface WireRecord {
  readonly type: number;
  /** A plaintext alert (content type 21 before any key is agreed, or in TLS 1.2): level and description. */
  readonly alert?: { readonly level: number; readonly description: number };
}

export interface TlsExchange {
  /** The client's error, if the handshake or the stream failed (code and message). */
  readonly error?: { readonly code?: string; readonly message: string };
  readonly secure: boolean;
  readonly protocol?: string | null;
  readonly authorized?: boolean;
  readonly authorizationError?: string;
  readonly peer?: PeerCertificate;
  /** Application bytes received. */
  readonly body: string;
  /** What the server sent, record by record. */
  readonly records: readonly WireRecord[];
  /** How the server's side of the TCP stream ended. */
  readonly serverEnd: 'fin' | 'reset' | 'open';
}

export const ALERT = { closeNotify: 0, handshakeFailure: 40, protocolVersion: 70, unrecognizedName: 112, certificateRequired: 116, unknownCa: 48, badCertificate: 42 } as const;

/** Connect through a recording relay, send `request` once secure, and collect until the server ends or `timeoutMs`. */
export async function tlsExchange(port: number, options: ConnectionOptions & { request?: string; timeoutMs?: number } = {}): Promise<TlsExchange> {
  const { request = 'GET / HTTP/1.1\r\nHost: upstream.badgateway.test\r\nConnection: close\r\n\r\n', timeoutMs = 3000, ...tlsOptions } = options;
  const records: WireRecord[] = [];
  let serverEnd: TlsExchange['serverEnd'] = 'open';
  let relay: Server | undefined;
  let serverDone!: () => void;
  const serverEnded = new Promise<void>((r) => (serverDone = r));
  const relayPort = await new Promise<number>((resolve) => {
    relay = createServer((client) => {
      client.on('error', () => {});
      const up = tcpConnect(port, '127.0.0.1');
      let pending = Buffer.alloc(0);
      up.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
          const len = pending.readUInt16BE(3);
          const type = pending[0]!;
          records.push(type === 21 && len === 2 ? { type, alert: { level: pending[5]!, description: pending[6]! } } : { type });
          pending = pending.subarray(5 + len);
        }
        client.write(d);
      });
      up.on('end', () => {
        serverEnd = 'fin';
        client.end();
        serverDone();
      });
      up.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNRESET') serverEnd = 'reset';
        client.destroy();
        serverDone();
      });
      client.on('data', (d) => up.write(d));
      client.on('end', () => up.end());
      client.on('close', () => up.destroy());
    });
    relay.listen(0, '127.0.0.1', () => resolve((relay!.address() as { port: number }).port));
  });
  let body = '';
  let error: TlsExchange['error'];
  let secure = false;
  // Read at secureConnect: once the socket has closed, Node answers null for each.
  let at: Pick<TlsExchange, 'protocol' | 'authorized' | 'authorizationError' | 'peer'> = {};
  // servername '' sends no SNI (the host is an address, so Node adds none of its own).
  const { servername = 'upstream.badgateway.test', ...rest } = tlsOptions;
  const socket = tlsConnect({ host: '127.0.0.1', port: relayPort, rejectUnauthorized: false, ...(servername === '' ? {} : { servername }), ...rest });
  const done = new Promise<void>((resolve) => {
    socket.on('secureConnect', () => {
      secure = true;
      at = {
        protocol: socket.getProtocol(),
        authorized: socket.authorized,
        authorizationError: socket.authorized ? undefined : String(socket.authorizationError),
        peer: socket.getPeerCertificate(),
      };
      socket.write(request);
    });
    socket.on('data', (d: Buffer) => (body += d.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= { code: e.code, message: e.message }));
    socket.on('close', () => resolve());
  });
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  await done;
  clearTimeout(timer);
  // The relay hears the server's end a moment after the client does.
  await Promise.race([serverEnded, new Promise((r) => setTimeout(r, 200))]);
  const result: TlsExchange = {
    error,
    secure,
    ...at,
    body,
    records: [...records],
    serverEnd,
  };
  await new Promise<void>((r) => relay!.close(() => r()));
  return result;
}
