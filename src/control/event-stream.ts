/**
 * The upstream's event stream to its WebSocket clients, built to cost the upstream little
 * however many clients there are and however slowly they read:
 *
 * - each event is serialised and framed once: the events of one turn of the event loop become
 *   one buffer of complete WebSocket text frames, and every client's socket is handed that same
 *   buffer (one write per client per turn, not one per event, and no copy per client);
 * - a client whose socket is full is not written to until it drains; what it has not taken is
 *   kept as references to those shared buffers, and once more than a bound of bytes waits for
 *   it, it is closed with code 1008 instead of being buffered without limit. It reconnects and
 *   starts from the live stream, knowing from the close code that it missed events.
 *
 * The frames are written to the socket the client was upgraded on, beside ws: whole frames, in
 * order, so anything ws itself sends (a pong, the close frame) falls between two of them.
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { EventBus, Stamped } from '../upstream/events.js';

/** Above this many bytes waiting for one client (not yet taken by its socket), it is closed. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
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
}

/** Forwards every event to every client added; subscribed to the bus only while it has clients. */
export class EventFanout {
  private readonly clients = new Map<WebSocket, Client>();
  private unsubscribe: (() => void) | undefined;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushing: NodeJS.Immediate | undefined;
  private readonly max: number;
  private readonly graceMs: number;

  constructor(
    private readonly bus: EventBus,
    private readonly opts: EventStreamOptions = {},
  ) {
    this.max = opts.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
    this.graceMs = opts.closeGraceMs ?? CLOSE_GRACE_MS;
  }

  /** `socket` is the one `ws` was upgraded on. */
  add(ws: WebSocket, socket: Duplex): void {
    const client: Client = { ws, socket, waiting: [], waitingBytes: 0, full: false };
    this.clients.set(ws, client);
    ws.once('close', () => this.remove(ws));
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
      if (this.flushing) clearImmediate(this.flushing);
      this.flushing = undefined;
      this.batch = [];
      this.batchBytes = 0;
    }
  }

  private send(e: Stamped): void {
    const frame = textFrame(JSON.stringify(e));
    this.batch.push(frame);
    this.batchBytes += frame.length;
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    const chunk = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.flushing = undefined;
    for (const client of [...this.clients.values()]) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      if (!client.full) {
        client.full = !client.socket.write(chunk);
        continue;
      }
      client.waiting.push(chunk);
      client.waitingBytes += chunk.length;
      const behind = client.waitingBytes + client.socket.writableLength;
      if (behind > this.max) this.dropSlow(client, behind);
    }
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
