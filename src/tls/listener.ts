/**
 * TLS listeners: the chaos upstream's healthy TLS port and the tls-* listener faults. Each
 * accepted TCP connection is read raw until its ClientHello is whole (a fault may answer it
 * with an alert, a stall or an RST), then handed to a server TLS socket that runs over a JS
 * stream on top of it. The stream in between is the point: a TLS socket given the TCP socket
 * itself takes its handle, and then neither an RST nor a FIN without close_notify can be sent.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket, createSecureContext, type SecureContextOptions } from 'node:tls';
import { Conn } from '../faults/conn.js';
import type { TlsListenerSpec } from '../faults/fault.js';
import { closeServer, listen } from '../upstream/listen.js';
import type { RunPki } from './pki.js';

/** A TLS server connection and the TCP connection under it. */
export interface TlsConn {
  readonly tls: TLSSocket;
  readonly raw: Socket;
  /** An RST on the TCP connection (a TLS socket has none of its own), after what was written so far. */
  reset(): void;
  /** A TCP FIN without TLS's close_notify alert, after what was written so far. */
  finWithoutCloseNotify(): void;
}

/** TLS record content types and the alert this module sends itself. */
const HANDSHAKE = 22;
const ALERT_FATAL = 2;
/** RFC 6066: the server does not know the name the client asked for (or none was sent). */
export const ALERT_UNRECOGNIZED_NAME = 112;
/** The first record of a ClientHello is at most 16 KiB plus its header; more is no TLS client. */
const MAX_RECORD = 5 + 16384 + 2048;

/**
 * The server name a ClientHello asks for (SNI), `null` when it sends none, undefined when the
 * bytes are no ClientHello this parser reads (it then lets OpenSSL judge them).
 */
export function clientHelloServerName(rec: Buffer): string | null | undefined {
  if (rec.length < 9 || rec[0] !== HANDSHAKE || rec[5] !== 1) return undefined;
  const end = Math.min(rec.length, 5 + rec.readUInt16BE(3));
  let i = 9 + 2 + 32; // handshake header, client_version, random
  const skip = (lenBytes: 1 | 2) => {
    if (i + lenBytes > end) return false;
    i += lenBytes + (lenBytes === 1 ? rec[i]! : rec.readUInt16BE(i));
    return i <= end;
  };
  if (!skip(1) || !skip(2) || !skip(1)) return undefined; // session id, cipher suites, compression
  if (i === end) return null; // no extensions at all
  if (i + 2 > end) return undefined;
  const extEnd = Math.min(end, i + 2 + rec.readUInt16BE(i));
  i += 2;
  while (i + 4 <= extEnd) {
    const type = rec.readUInt16BE(i);
    const len = rec.readUInt16BE(i + 2);
    const body = i + 4;
    if (type === 0 && body + 5 <= extEnd) {
      // server_name_list: a 2-byte list length, then entries of type (0 = host_name), length, name.
      const nameLen = rec.readUInt16BE(body + 3);
      if (rec[body + 2] === 0 && body + 5 + nameLen <= extEnd) return rec.subarray(body + 5, body + 5 + nameLen).toString('latin1');
      return undefined;
    }
    i = body + len;
  }
  return null;
}

/** A fatal alert record, as a server sends it before any key is agreed (plaintext). */
export function alertRecord(description: number): Buffer {
  return Buffer.from([21, 0x03, 0x03, 0x00, 0x02, ALERT_FATAL, description]);
}

/**
 * Wraps an accepted TCP socket (whose first bytes, `hello`, were already read) in a server TLS
 * socket. The TCP socket stays ours: `reset` and `finWithoutCloseNotify` act on it.
 */
export function serverTls(raw: Socket, hello: Buffer, options: SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean }, alpn?: readonly string[]): TlsConn {
  let resetting = false;
  const stream = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (raw.destroyed) return cb();
      raw.write(chunk, () => cb());
    },
    read() {
      raw.resume();
    },
    final(cb) {
      if (!raw.destroyed && !resetting) raw.end();
      cb();
    },
  });
  stream.on('error', () => {});
  raw.pause();
  raw.on('data', (b: Buffer) => {
    if (!stream.push(b)) raw.pause();
  });
  raw.on('end', () => stream.push(null));
  raw.on('close', () => stream.destroy());
  stream.push(hello);
  const { requestCert, rejectUnauthorized, ...ctx } = options;
  const tls = new TLSSocket(stream, { isServer: true, secureContext: createSecureContext(ctx), requestCert, rejectUnauthorized, ...(alpn ? { ALPNProtocols: [...alpn] } : {}) });
  tls.on('error', () => {});
  // The TLS socket is done (closed, destroyed, or its close_notify and FIN sent): release the TCP
  // one once what it was given is out, unless an RST is on its way.
  tls.once('close', () => {
    if (resetting || raw.destroyed) return;
    if (raw.writableEnded) raw.destroySoon();
    else raw.end(() => raw.destroy());
  });
  return {
    tls,
    raw,
    // On the next turn: inside a write's callback the RST came out as a FIN (measured, Node 20).
    reset() {
      if (resetting || raw.destroyed) return;
      resetting = true;
      setImmediate(() => {
        raw.resetAndDestroy();
        tls.destroy();
      });
    },
    finWithoutCloseNotify() {
      if (resetting || raw.destroyed) return;
      resetting = true;
      raw.end(() => raw.destroy());
      tls.destroy();
    },
  };
}

/** The peer's certificate was issued and signed by this CA, and is valid now. */
function issuedBy(tls: TLSSocket, ca: X509Certificate): boolean {
  const peer = tls.getPeerX509Certificate();
  if (!peer) return false;
  const now = Date.now();
  return peer.checkIssued(ca) && peer.verify(ca.publicKey) && Date.parse(peer.validFrom) <= now && now <= Date.parse(peer.validTo);
}

/** What a TLS listener does with a handshake that succeeded. */
export type OnSecure = (conn: TlsConn) => void;

export interface TlsListenerHandle {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface TlsListenerOptions {
  readonly host: string;
  readonly port?: number;
  readonly pki: RunPki;
  /** Default: a healthy listener. */
  readonly spec?: TlsListenerSpec;
  /** Told of each accepted connection (the upstream's listener-fault event). */
  readonly onConn?: (remote: string) => void;
  /** A connection that has not finished its handshake by then is closed. */
  readonly handshakeTimeoutMs: number;
  readonly what: string;
  readonly onSecure: OnSecure;
  /** ALPN protocols the server offers (the HTTP/2 TLS listener: `h2`); default none. */
  readonly alpn?: readonly string[];
}

/** The secure-context options a spec asks for. */
export function contextOptions(pki: RunPki, spec: TlsListenerSpec): SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean } {
  const { cert, key } = pki.cert(spec.cert ?? 'healthy');
  return {
    cert,
    key,
    ...(spec.minVersion ? { minVersion: spec.minVersion } : {}),
    ...(spec.maxVersion ? { maxVersion: spec.maxVersion } : {}),
    ...(spec.ciphers ? { ciphers: spec.ciphers } : {}),
    ...(spec.clientCert ? { requestCert: true, rejectUnauthorized: true, ca: spec.clientCert === 'required' ? pki.caPem : pki.foreignCaPem } : {}),
  };
}

export async function startTlsListener(o: TlsListenerOptions): Promise<TlsListenerHandle> {
  const spec = o.spec ?? {};
  const options = contextOptions(o.pki, spec);
  // Made once: a bad cipher list or version fails here, at start, not at the first client.
  createSecureContext(options);
  // The CA a client certificate must come from, parsed once for every handshake.
  const clientCa = options.requestCert ? new X509Certificate(options.ca as string) : undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (raw) => {
    raw.on('error', () => {});
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    o.onConn?.(`${raw.remoteAddress}:${raw.remotePort}`);
    const timer = setTimeout(() => raw.destroy(), o.handshakeTimeoutMs);
    raw.once('close', () => clearTimeout(timer));
    let hello = Buffer.alloc(0);
    const onData = (b: Buffer) => {
      hello = Buffer.concat([hello, b]);
      // Wait for the first record whole: its length is in its header.
      const whole = hello.length >= 5 && hello.length >= 5 + hello.readUInt16BE(3);
      if (!whole && hello.length < MAX_RECORD) return;
      raw.off('data', onData);
      raw.off('end', onEnd);
      if (spec.handshake === 'stall') {
        // Read, never answered, held until the peer leaves (or the listener closes).
        raw.on('data', () => {});
        raw.on('end', () => raw.destroy());
        return;
      }
      if (spec.handshake === 'reset') {
        clearTimeout(timer);
        raw.resetAndDestroy();
        return;
      }
      if (spec.sniRequired) {
        const name = clientHelloServerName(hello);
        if (name !== o.pki.serverName) {
          clearTimeout(timer);
          raw.end(alertRecord(ALERT_UNRECOGNIZED_NAME), () => raw.destroy());
          return;
        }
      }
      const conn = serverTls(raw, hello, options, o.alpn);
      conn.tls.once('secure', () => {
        clearTimeout(timer);
        // Node's server TLS checks a client certificate only after the handshake (its OpenSSL
        // verify callback accepts any; tls.Server, not a TLSSocket of our own, then drops the
        // unauthorized, and sets `authorized`): so a refused certificate cannot get the unknown_ca
        // alert an OpenSSL server sends, and the check is ours. A missing one fails inside the
        // handshake (rejectUnauthorized sets FAIL_IF_NO_PEER_CERT). A refused one: the connection
        // ends before the request is read, with close_notify and a FIN.
        if (clientCa && !issuedBy(conn.tls, clientCa)) {
          conn.tls.end();
          return;
        }
        o.onSecure(conn);
      });
    };
    const onEnd = () => raw.destroy();
    raw.on('data', onData);
    raw.on('end', onEnd);
    // A stalled handshake is the fault: no timer ends it.
    if (spec.handshake === 'stall') clearTimeout(timer);
  });
  await listen(server, { host: o.host, port: o.port ?? 0 }, o.what);
  server.on('error', () => {});
  return {
    host: o.host,
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/** The cut faults' answer: a Content-Length of 1000 and 100 bytes of it, as body-cut-fin-length over plain HTTP. */
export const CUT_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n';
export const CUT_BODY_BYTES = 100;

/**
 * After the handshake: read the request, send a response whose body stops a tenth of the way, then
 * end the connection with close_notify and FIN, or with the FIN alone.
 */
export async function serveCut(c: TlsConn, mode: 'close-notify' | 'no-close-notify', maxHeadBytes: number): Promise<void> {
  const conn = new Conn(c.tls, { maxHeadBytes, reset: c.reset });
  try {
    if ((await conn.readHead()) === undefined) return conn.destroy();
    await conn.readBody();
    conn.write(Buffer.concat([Buffer.from(CUT_HEAD, 'latin1'), Buffer.alloc(CUT_BODY_BYTES, 'x')]));
    await conn.flush();
    if (mode === 'close-notify') conn.close();
    else c.finWithoutCloseNotify();
  } catch {
    conn.destroy();
  }
}
