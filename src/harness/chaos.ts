/**
 * The whole chaos side in one call: the upstream (HTTP + listener faults), the
 * DNS responder for the test zone, and the control API. What `badgateway serve`
 * runs and what the harness starts before any gateway.
 */
import type { DnsBehavior, DnsFaultDef } from '../faults/fault.js';
import { InputError } from '../errors.js';
import { Catalogue } from '../faults/registry.js';
import { startControl, type StartedControl } from '../control/control-server.js';
import { startDnsResponder, type StartedDnsResponder } from '../dns/responder.js';
import { EventBus } from '../upstream/events.js';
import { startUpstream, type StartedUpstream, type UpstreamOptions } from '../upstream/upstream.js';
import { DisposalStack } from './disposal.js';
import type { ServedSuite } from '../control/served-suite.js';

export interface ChaosOptions extends UpstreamOptions {
  /** DNS responder port; false turns it off. Default 0 (a free port). */
  readonly dnsPort?: number | false;
  readonly dnsZone?: string;
  /** Addresses the DNS responder answers for healthy names (default: the upstream's host, or 127.0.0.1/::1 when it binds a wildcard). */
  readonly dnsAddresses?: { a?: string[]; aaaa?: string[] };
  /** A DNS-over-TCP connection without a complete query for this long is closed. Default 10,000 ms. */
  readonly dnsTcpIdleTimeoutMs?: number;
  /** DNS-over-TCP connections open at once; more are closed at accept. Default 256. */
  readonly dnsMaxTcpConnections?: number;
  /** Control API; false turns it off. Default: on, 127.0.0.1, a free port. */
  readonly control?: false | ControlChoice;
}

export interface ControlChoice {
  readonly host?: string;
  readonly port?: number;
  readonly token?: string;
  /** Bytes of events sent to one event-stream client and not confirmed read (by a pong) before it is closed (code 1008). Default 1 MiB. */
  readonly eventBufferBytes?: number;
  /** `serve --suite`: the suite it serves, told to `run --upstream-control` (GET /api/suite). */
  readonly suite?: ServedSuite;
}

export interface StartedChaos extends AsyncDisposable {
  readonly upstream: StartedUpstream;
  readonly dns: StartedDnsResponder | undefined;
  readonly control: StartedControl | undefined;
  readonly catalogue: Catalogue;
  close(): Promise<void>;
}

export function dnsRecords(catalogue: Catalogue): Map<string, DnsBehavior> {
  return new Map(catalogue.list().filter((f): f is DnsFaultDef => f.layer === 'dns').map((f) => [f.name, f.dns]));
}

/** A wildcard bind is no address to connect to: answer loopback for it. */
function answerAddresses(host: string): { a: string[]; aaaa: string[] } {
  if (host === '0.0.0.0' || host === '::') return { a: ['127.0.0.1'], aaaa: ['::1'] };
  return host.includes(':') ? { a: [], aaaa: [host] } : { a: [host], aaaa: ['::1'] };
}

/** Checked here: the event stream itself takes any number, and 0 or NaN would drop every client at once. */
function eventBufferBytes(n: number): number {
  if (Number.isInteger(n) && n >= 1024) return n;
  throw new InputError('BG_BAD_OPTION', `control.eventBufferBytes must be a whole number of bytes, at least 1024, not ${n}. It bounds the events sent to one event-stream client and not yet confirmed read (default 1048576).`);
}

export async function startChaos(opts: ChaosOptions = {}): Promise<StartedChaos> {
  const catalogue = opts.catalogue ?? new Catalogue();
  const events = opts.events ?? new EventBus();
  const stack = new DisposalStack();
  try {
    const upstream = stack.use(await startUpstream({ ...opts, catalogue, events }));
    let dns: StartedDnsResponder | undefined;
    if (opts.dnsPort !== false) {
      const host = opts.host ?? '127.0.0.1';
      dns = stack.use(
        await startDnsResponder({
          host,
          port: opts.dnsPort ?? 0,
          zone: opts.dnsZone,
          records: dnsRecords(catalogue),
          defaultAddresses: opts.dnsAddresses ?? answerAddresses(host),
          onQuery: (q) => events.emit({ type: 'dns-query', name: q.name, qtype: q.type, transport: q.transport, outcome: q.outcome }),
          tcpIdleTimeoutMs: opts.dnsTcpIdleTimeoutMs,
          maxTcpConnections: opts.dnsMaxTcpConnections,
          onLimit: (l) =>
            events.emit(
              l.limit === 'tcp-connections'
                ? { type: 'guard', guard: 'dns-connection-cap', listener: 'dns', limit: l.max, remote: l.remote }
                : { type: 'guard', guard: 'dns-idle-timeout', listener: 'dns', limit: l.idleMs, remote: l.remote },
            ),
        }),
      );
    }
    let control: StartedControl | undefined;
    if (opts.control !== false) {
      control = stack.use(
        await startControl({
          host: opts.control?.host,
          port: opts.control?.port,
          token: opts.control?.token,
          events: opts.control?.eventBufferBytes === undefined ? undefined : { maxBufferedBytes: eventBufferBytes(opts.control.eventBufferBytes) },
          upstream,
          dns: dns ? { host: dns.host, port: dns.port, zone: dns.zone } : undefined,
          suite: opts.control?.suite,
        }),
      );
    }
    const close = () => stack.dispose();
    return { upstream, dns, control, catalogue, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await stack.dispose().catch(() => {});
    throw err;
  }
}
