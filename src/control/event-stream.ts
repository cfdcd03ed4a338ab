/**
 * The upstream's event stream to its WebSocket clients, built to cost the upstream little
 * however many clients there are and however slowly they read:
 *
 * - each event is serialised and framed once: the events of up to FLUSH_MS (or FLUSH_BYTES,
 *   whichever comes first) become one buffer of complete WebSocket text frames, and every
 *   client's socket is handed that same buffer: one write per client per batch, not one per event
 *   or per turn of the event loop (a busy upstream serves a few requests a turn, and a write is a
 *   system call per client), and no copy per client;
 * - what a client has not read is bounded, wherever it waits: a socket that is full is not
 *   written to until it drains (what it has not taken is kept as references to those shared
 *   buffers), and the kernel's buffers are counted too. A ping goes to each client every quarter
 *   of the bound, carrying how many bytes had been sent to it; its pong (which any WebSocket
 *   client sends once it has read that far) says what it has read. Once more than the bound has
 *   been sent and not confirmed, it is closed with code 1008 instead of being buffered without
 *   limit. It reconnects and starts from the live stream, knowing from the close code that it
 *   missed events. Without the pings a client that never reads would first fill the kernel's
 *   buffers of both ends (several MB on loopback, copied for each client) before the socket
 *   refused anything.
 *
 * The frames are written to the socket the client was upgraded on, beside ws: whole frames, in
 * order, so anything ws itself sends (a pong, the close frame) falls between two of them.
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { EventBus, Stamped } from '../upstream/events.js';

/** Above this many bytes sent to one client and not confirmed read by a pong, it is closed. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Events wait at most this long to be sent, so clients get them in a few large writes... */
const FLUSH_MS = 10;
/** ...or are sent as soon as this many bytes of them wait (or an eighth of a smaller bound). */
const FLUSH_BYTES = 64 * 1024;
/** A client is pinged once this fraction of the bound has been sent since its last ping. */
const PINGS_PER_BOUND = 4;
/** RFC 6455 "policy violation": the client broke the one rule of the stream, keeping up. */
export const SLOW_CLIENT_CLOSE_CODE = 1008;
/**
 * How long a closed slow client gets to read up to our close frame before its socket is
 * destroyed. A client that reads nothing never sees the frame; this bounds what it holds.
 */
const CLOSE_GRACE_MS = 1000;

export interface EventStreamOptions {
  readonly maxBufferedBytes?: number;
  readonly closeGraceMs?: number;
  /** A client was closed for falling behind. */
  readonly onSlowClient?: (e: { readonly bufferedBytes: number; readonly max: number }) => void;
}

interface Client {
  readonly ws: WebSocket;
  readonly socket: Duplex;
  /** Batches the socket has not been given yet because it is full; shared with other clients. */
  waiting: Buffer[];
  waitingBytes: number;
  /** The socket refused more (write returned false) and has not drained since. */
  full: boolean;
  /** Bytes handed to the socket or queued for it since the client was added. */
  sent: number;
  /** Bytes the client confirmed reading: the offset carried by the last ping it answered. */
  confirmed: number;
  /** The offset carried by the ping not answered yet, or -1 when none is out. */
  pingAt: number;
}

/** Forwards every event to every client added; subscribed to the bus only while it has clients. */
export class EventFanout {
  private readonly clients = new Map<WebSocket, Client>();
  private unsubscribe: (() => void) | undefined;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushing: NodeJS.Timeout | undefined;
  private readonly max: number;
  private readonly flushBytes: number;
  private readonly graceMs: number;

  constructor(
    private readonly bus: EventBus,
    private readonly opts: EventStreamOptions = {},
  ) {
    this.max = opts.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
    // A reader confirms a batch only after it was sent: batches much smaller than the bound
    // leave it several to answer in.
    this.flushBytes = Math.min(FLUSH_BYTES, this.max / 8);
    this.graceMs = opts.closeGraceMs ?? CLOSE_GRACE_MS;
  }

  /** `socket` is the one `ws` was upgraded on. */
  add(ws: WebSocket, socket: Duplex): void {
    const client: Client = { ws, socket, waiting: [], waitingBytes: 0, full: false, sent: 0, confirmed: 0, pingAt: -1 };
    this.clients.set(ws, client);
    ws.once('close', () => this.remove(ws));
    ws.on('pong', (data: Buffer) => this.ponged(client, data));
    socket.on('drain', () => this.drained(client));
    // The emitters skip building events while nobody listens (EventBus.active).
    this.unsubscribe ??= this.bus.subscribe((e) => this.send(e));
  }

  private remove(ws: WebSocket): void {
    const client = this.clients.get(ws);
    if (!client) return;
    this.clients.delete(ws);
    client.waiting = [];
    if (this.clients.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      if (this.flushing) clearTimeout(this.flushing);
      this.flushing = undefined;
      this.batch = [];
      this.batchBytes = 0;
    }
  }

  private send(e: Stamped): void {
    const frame = textFrame(JSON.stringify(e));
    this.batch.push(frame);
    this.batchBytes += frame.length;
    if (this.batchBytes >= this.flushBytes) {
      if (this.flushing) clearTimeout(this.flushing);
      this.flush();
    } else this.flushing ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    const chunk = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.flushing = undefined;
    for (const client of [...this.clients.values()]) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      // Judged before this batch, which the client cannot have confirmed yet: what one client
      // holds is at most the bound plus one batch.
      const behind = client.sent - client.confirmed;
      if (behind > this.max) {
        this.dropSlow(client, behind);
        continue;
      }
      client.sent += chunk.length;
      if (client.full) {
        client.waiting.push(chunk);
        client.waitingBytes += chunk.length;
        continue;
      }
      client.full = !client.socket.write(chunk);
      if (client.pingAt === -1 && client.sent - client.confirmed >= this.max / PINGS_PER_BOUND) this.ping(client);
    }
  }

  /**
   * A ping carrying the offset of everything sent before it. Written beside ws like the events,
   * so it is ordered after them; sent only when the socket takes writes, which keeps it out of the
   * waiting list (a client that stops reading is dropped by the bound before the pong matters).
   */
  private ping(client: Client): void {
    const frame = Buffer.allocUnsafe(10);
    frame[0] = 0x89;
    frame[1] = 8;
    frame.writeUIntBE(0, 2, 2);
    frame.writeUIntBE(client.sent, 4, 6);
    client.pingAt = client.sent;
    client.full = !client.socket.write(frame);
  }

  private ponged(client: Client, data: Buffer): void {
    if (data.length !== 8 || client.pingAt === -1) return;
    const at = data.readUIntBE(2, 6);
    // Only our own ping's echo moves the mark: an unsolicited pong proves nothing.
    if (at !== client.pingAt) return;
    client.confirmed = at;
    client.pingAt = -1;
  }

  private drained(client: Client): void {
    if (!this.clients.has(client.ws)) return;
    const waiting = client.waiting;
    client.waiting = [];
    client.waitingBytes = 0;
    client.full = false;
    if (waiting.length === 0 || client.ws.readyState !== WebSocket.OPEN) return;
    client.socket.cork();
    for (const chunk of waiting) client.full = !client.socket.write(chunk);
    client.socket.uncork();
    if (!client.full && client.pingAt === -1 && client.sent - client.confirmed >= this.max / PINGS_PER_BOUND) this.ping(client);
  }

  private dropSlow(client: Client, bufferedBytes: number): void {
    const { ws } = client;
    this.remove(ws);
    try {
      this.opts.onSlowClient?.({ bufferedBytes, max: this.max });
    } catch {
      // A broken listener must not keep a slow client attached.
    }
    const kill = setTimeout(() => ws.terminate(), this.graceMs);
    kill.unref();
    ws.once('close', () => clearTimeout(kill));
    ws.close(SLOW_CLIENT_CLOSE_CODE, `too slow: more than ${this.max} bytes of events unread`);
  }
}

/** One unmasked, final text frame (RFC 6455 section 5.2): what a server sends for a message. */
export function textFrame(text: string): Buffer {
  const n = Buffer.byteLength(text);
  const headerBytes = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = n;
  else if (n <= 0xffff) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  frame.write(text, headerBytes, 'utf8');
  return frame;
}
