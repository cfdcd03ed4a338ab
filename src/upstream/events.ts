/** The upstream's event stream (consumed by the control API's WebSocket and by the harness). */

export type UpstreamEvent =
  | { readonly type: 'connection'; readonly conn: number; readonly listener: string; readonly remote: string }
  /** A request routed to a fault; on a FastCGI listener `requestId` is its FastCGI request id, and method and target come from its params. */
  | { readonly type: 'request'; readonly conn: number; readonly method: string; readonly target: string; readonly fault: string; readonly via: string; readonly requestId?: number; /** On the HTTP/2 listener: the request's stream id. */ readonly streamId?: number }
  | { readonly type: 'step'; readonly conn: number; readonly fault: string; readonly index: number; readonly op: string }
  | { readonly type: 'close'; readonly conn: number; readonly requests: number }
  /** A request named a fault (by path or header) that cannot run by name; it was answered 404. `id` is cut at 100 characters. */
  | { readonly type: 'unknown-fault'; readonly conn: number; readonly id: string; readonly via: 'path' | 'header' }
  /** A request named a fault (by path or header) with query params it cannot run with (out of range, not a number); it was answered 400. `why` names the param and its limit. */
  | { readonly type: 'rejected'; readonly conn: number; readonly fault: string; readonly why: string }
  /** A bug: something in badgateway threw while serving (not the peer leaving). The connection was reset. */
  | { readonly type: 'error'; readonly conn: number; readonly fault: string | undefined; readonly message: string }
  /**
   * A listener guard acted on a connection that was still sending its request head (never during a
   * fault's script): the head took longer than `limit` ms (answered 408; a connection that sent
   * nothing is closed without one) or grew past `limit` bytes (answered 431); either way it closed.
   */
  | { readonly type: 'guard'; readonly guard: 'head-timeout' | 'head-too-big'; readonly conn: number; readonly listener: string; readonly limit: number }
  /**
   * The HTTP and unix listeners hold `limit` connections: new ones are closed at accept, so the
   * descriptors left over keep the control API and the DNS responder answering. One event when the
   * cap is first hit, then at most one a second while it refuses, `refused` counting the connections
   * closed since the previous event.
   */
  /**
   * A FastCGI listener's peer broke the protocol before its request was complete (a record of
   * another version, a client sending STDOUT, more records than the bound, PARAMS that do not
   * decode): the connection closed. `reason` is cut at 200 characters. (PARAMS past the size
   * bound and a slow request are `head-too-big` and `head-timeout`, closed without an answer.)
   */
  | { readonly type: 'guard'; readonly guard: 'fcgi-protocol'; readonly conn: number; readonly listener: string; readonly reason: string }
  /** The HTTP/2 listener's peer broke HTTP/2 before a request was routed (no client preface, a frame too large, a header block that does not decode): GOAWAY with the error, then close. `reason` is cut at 200 characters. */
  | { readonly type: 'guard'; readonly guard: 'h2-protocol'; readonly conn: number; readonly listener: string; readonly reason: string }
  | { readonly type: 'guard'; readonly guard: 'connection-cap'; readonly listener: string; readonly limit: number; readonly refused: number }
  /**
   * A guard of the DNS responder's TCP side acted: a connection was closed at accept because
   * `limit` were open (`dns-connection-cap`), or closed after `limit` ms without a complete query
   * (`dns-idle-timeout`). One event per connection: DNS-over-TCP peers are few.
   */
  | { readonly type: 'guard'; readonly guard: 'dns-connection-cap' | 'dns-idle-timeout'; readonly listener: 'dns'; readonly limit: number; readonly remote: string }
  | { readonly type: 'listener-fault'; readonly listener: string; readonly fault: string; readonly remote: string }
  | { readonly type: 'dns-query'; readonly name: string; readonly qtype: string; readonly transport: string; readonly outcome: string };

export type Stamped = UpstreamEvent & { readonly at: string };

let lastMs = 0;
let lastIso = '';
/** The time as ISO 8601, formatted once per millisecond: a busy upstream emits many events in one. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export class EventBus {
  private readonly subscribers = new Set<(e: Stamped) => void>();

  get active(): boolean {
    return this.subscribers.size > 0;
  }

  subscribe(fn: (e: Stamped) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  emit(e: UpstreamEvent): void {
    if (this.subscribers.size === 0) return;
    const stamped = { ...e, at: isoNow() } as Stamped;
    for (const fn of this.subscribers) {
      // A broken subscriber must not stop the others, nor the connection that emitted.
      try {
        fn(stamped);
      } catch {
        /* dropped */
      }
    }
  }
}
