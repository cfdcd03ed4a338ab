/**
 * One WebSocket client of the upstream's event stream. A busy upstream can emit
 * events faster than a slow client reads them; rather than buffer without
 * bound, events are dropped while the client is behind, and it is told how
 * many once it has caught up.
 */
import { WebSocket } from 'ws';
import type { EventBus } from '../upstream/events.js';

/** Above this many bytes queued for one client, its events are dropped. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How often a client that is behind is checked, so the dropped count arrives even when no new event does. */
const DRAIN_CHECK_MS = 50;

export interface EventStreamOptions {
  readonly maxBufferedBytes?: number;
  readonly drainCheckMs?: number;
}

/** Forwards every event to `ws` until it closes; returns the unsubscribe (also run on close). */
export function streamEvents(ws: WebSocket, bus: EventBus, opts: EventStreamOptions = {}): () => void {
  const max = opts.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const checkMs = opts.drainCheckMs ?? DRAIN_CHECK_MS;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;

  const stopTimer = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  /** True when nothing is owed to the client any more. */
  const settleDropped = (): boolean => {
    if (dropped === 0) return true;
    if (ws.bufferedAmount > max) return false;
    ws.send(JSON.stringify({ type: 'dropped', count: dropped, at: new Date().toISOString() }));
    dropped = 0;
    stopTimer();
    return true;
  };
  const onEvent = (e: object) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (!settleDropped() || ws.bufferedAmount > max) {
      dropped++;
      // unref: a stalled client must not keep the process alive on its own.
      timer ??= setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) stopTimer();
        else settleDropped();
      }, checkMs).unref();
      return;
    }
    ws.send(JSON.stringify(e));
  };

  const unsubscribe = bus.subscribe(onEvent);
  const stop = () => {
    unsubscribe();
    stopTimer();
  };
  ws.once('close', stop);
  return stop;
}
