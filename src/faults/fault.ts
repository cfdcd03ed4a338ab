/**
 * What a fault is: serializable definitions (id, layer, summary, explanation and
 * the data that drives it) and their compiled form. Pure.
 */
import type { FaultProtocol } from './fcgi-steps.js';
import { compileSteps, StepError, type Step, type StepDef } from './steps.js';
import type { H2WireExpectation } from './h2-wire.js';
import type { WireBounds, WireBytes } from './wire-types.js';
export type { WireBounds, WireBytes } from './wire-types.js';

export type { FaultProtocol } from './fcgi-steps.js';

export type FaultLayer = 'dns' | 'listener' | 'exchange' | 'process';

export interface FaultInfo {
  /** The fault's name everywhere: file name, YAML name, CLI, reports. */
  readonly id: string;
  readonly layer: FaultLayer;
  /** One line for listings. */
  readonly summary: string;
  /** What a gateway in front of this backend will see, and why it matters. */
  readonly explain: string;
}

export interface ExchangeFaultDef extends FaultInfo {
  readonly layer: 'exchange';
  /** Defaults for `${name}` placeholders inside the steps. */
  readonly params?: Readonly<Record<string, string | number>>;
  readonly steps: ReadonlyArray<StepDef>;
  /**
   * What the fault speaks: `http` (the default) runs on the HTTP listeners, `fastcgi` on the
   * FastCGI ones, where the upstream has read BEGIN_REQUEST and PARAMS before the steps run and
   * the `fcgi-*` steps write records with the request's id. A step of the other protocol is
   * refused when the fault loads.
   */
  readonly protocol?: FaultProtocol;
  /**
   * The fault's timed waits (`delay`, `dribble`, `keep-alive` idle) run their full time even
   * after the peer's FIN. By default a FIN ends them, as it ends every wait: a client that
   * hangs up is gone (nginx and most servers read an EOF while a response is pending as the
   * client going away), and waiting on would hold its socket in CLOSE-WAIT for the whole
   * delay. Set it for a fault whose point is a timing that must hold for a peer that only
   * half-closed (RFC 9112 lets a client shut down its sending side and still read the answer).
   * A reset or close still ends every wait (nothing can be sent then), and `hang`, which
   * nothing else would ever end, ends on a FIN regardless.
   */
  readonly ignoresPeer?: boolean;
  /**
   * What a client sees on the wire when it sends `request` straight to the upstream: every
   * byte, how the stream ends, and the timing that makes the fault what it is.
   * test/faults/exchange.test.ts plays it on a real socket; every built-in exchange fault has
   * one (src/faults/registry.test.ts fails otherwise). Written by hand as data, never derived
   * from `steps`, so it catches a step that stops doing what the fault says.
   */
  readonly wire?: WireExpectation;
  /** A fault with `protocol: h2` says what a client sees as frames instead (test/h2/wire.test.ts plays it). */
  readonly h2Wire?: H2WireExpectation;
}



export interface WireExpectation {
  /**
   * The request, byte for byte (latin1). Default: `GET /<id><query> HTTP/1.1` with
   * `Host: test` and `Connection: close`. A FastCGI fault has none: the raw FastCGI client of
   * test/fastcgi/wire.test.ts sends request id 1 without FCGI_KEEP_CONN, REQUEST_URI
   * `/<id><query>`, and an empty STDIN.
   */
  readonly request?: string;
  /** Appended to `/<id>` in the default request, e.g. `?delayMs=100` to shorten a declared param. */
  readonly query?: string;
  /** Exactly what arrives, nothing more and nothing less. */
  readonly bytes: WireBytes;
  /** How the stream ends: FIN, RST, or nothing until the client's own `timeoutMs` (a hang). */
  readonly end: 'fin' | 'reset' | 'timeout';
  /** How long the client waits for the end (default 3000 ms); short for hangs. */
  readonly timeoutMs?: number;
  /** When the first byte arrives, in ms after the request was written. */
  readonly firstByteMs?: WireBounds;
  /** When the stream ends, in ms after the request was written. */
  readonly durationMs?: WireBounds;
  /** The response head (bytes before the first CRLF CRLF) is longer than this many bytes. */
  readonly headLongerThan?: number;
  /** How many lines of the first response head start with `<name>: ` (case as written). */
  readonly headerLines?: Readonly<Record<string, number>>;
}

export type ListenerBehavior = 'refuse' | 'accept-queue-full' | 'reset-on-accept' | 'close-on-accept' | 'tls';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * A TLS listener (`listener: tls`): what its handshake does wrong, if anything. After the
 * handshake it serves the upstream's healthy response (or, with `cut`, a body cut short). Pure
 * data: src/tls/listener.ts plays it, with the run's certificates (src/tls/pki.ts).
 */
export interface TlsListenerSpec {
  /** The certificate presented (default `healthy`: the run CA's, for upstream.badgateway.test). */
  readonly cert?: 'healthy' | 'expired' | 'not-yet-valid' | 'wrong-name' | 'unknown-ca' | 'self-signed';
  /** The protocol versions the listener accepts (default: Node's, TLS 1.2 to 1.3). */
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2 and below (TLS 1.3's suites are always shared). */
  readonly ciphers?: string;
  /** A ClientHello without SNI, or naming another host than the certificate's, gets a fatal unrecognized_name alert. */
  readonly sniRequired?: boolean;
  /**
   * Ask for a client certificate: `required` accepts one signed by the run's CA (what the harness
   * gives the gateway) and fails a handshake without one; `refused` accepts only one signed by
   * another CA, so the run's is refused.
   */
  readonly clientCert?: 'required' | 'refused';
  /** `stall`: read the ClientHello and never answer; `reset`: read it, then send an RST. */
  readonly handshake?: 'stall' | 'reset';
  /**
   * After the handshake, answer with a Content-Length response whose body stops half-way, then
   * end the connection: `close-notify` sends TLS's close_notify alert, then a FIN; `no-close-notify`
   * only the TCP FIN, as a backend that crashed or a middlebox that cut the stream.
   */
  readonly cut?: 'close-notify' | 'no-close-notify';
}

export interface ListenerFaultDef extends FaultInfo {
  readonly layer: 'listener';
  readonly listener: ListenerBehavior;
  /**
   * `unix`: the fault listens on a unix socket path its starter gives (the harness: one in the
   * run dir; `serve`: --listener-fault-path), not on a TCP port; only `accept-queue-full` has a
   * unix form. A unix listener whose accept queue is full refuses a non-blocking connect() at
   * once with EAGAIN, where TCP drops the SYN and leaves the client to its connect timeout.
   */
  readonly socket?: 'unix';
  /** What the gateway is told it speaks on the other side: `fastcgi` routes it as a FastCGI backend. Default http. */
  readonly protocol?: FaultProtocol;
  /** With `listener: tls`: the TLS listener's handshake and ending (a TLS scenario; the gateway speaks TLS to it). */
  readonly tls?: TlsListenerSpec;
}

export type DnsAnswer =
  | { readonly kind: 'nxdomain' }
  | { readonly kind: 'servfail' }
  | { readonly kind: 'refused' }
  | { readonly kind: 'nodata' }
  | { readonly kind: 'silent' }
  | { readonly kind: 'answer'; readonly a?: readonly string[]; readonly aaaa?: readonly string[]; readonly ttl?: number };

/** A name's behaviour: one answer, or answers that change over time (cycling). */
export type DnsBehavior = DnsAnswer | { readonly kind: 'flap'; readonly phases: ReadonlyArray<{ readonly forMs: number; readonly answer: DnsAnswer }> };

export interface DnsFaultDef extends FaultInfo {
  readonly layer: 'dns';
  /** The label under the responder's zone that shows this behaviour, e.g. `nxdomain` → nxdomain.badgateway.test. */
  readonly name: string;
  readonly dns: DnsBehavior;
}

/**
 * What happens to a supervised backend process (src/process/): killed with SIGKILL while it
 * answers (`kill-mid-response`), recycled after a number of requests (`max-requests`), crashed
 * and restarted after a time (`crash-restart`), stopped with SIGSTOP and continued (`freeze`),
 * or drained (`drain`: stops accepting, finishes what is in flight, exits, a new one starts).
 */
export type ProcessBehavior = 'kill-mid-response' | 'max-requests' | 'crash-restart' | 'freeze' | 'drain';

export interface ProcessFaultDef extends FaultInfo {
  readonly layer: 'process';
  readonly process: ProcessBehavior;
  /**
   * The behaviour's numbers and their defaults (a scenario's `params:` overrides them): which
   * request of the scenario triggers it (`atRequest`, counted from 1 over every child), times in
   * ms, sizes in bytes. src/process/behavior.ts lists each behaviour's names and bounds.
   */
  readonly params: Readonly<Record<string, number>>;
}

export type FaultDef = ExchangeFaultDef | ListenerFaultDef | DnsFaultDef | ProcessFaultDef;

export function defineFault<T extends FaultDef>(def: T): T {
  return def;
}

/** An exchange fault ready to run: its steps compiled with its params resolved. */
export interface CompiledFault {
  readonly def: ExchangeFaultDef;
  readonly params: Readonly<Record<string, string | number>>;
  readonly steps: readonly Step[];
}

const WHOLE = /^\$\{([A-Za-z_][\w-]*)\}$/;
const PART = /\$\{([A-Za-z_][\w-]*)\}/g;

/** A declared param only: `in` or `params[name]` would find `${toString}` on Object.prototype and write out its source. */
function paramValue(params: Readonly<Record<string, string | number>>, name: string): string | number | undefined {
  return Object.hasOwn(params, name) ? params[name] : undefined;
}

/** Replace `${name}` placeholders; a value that is only a placeholder keeps the param's type. */
export function substituteParams(value: unknown, params: Readonly<Record<string, string | number>>, path: Array<string | number>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const v = paramValue(params, whole[1]!);
      if (v === undefined) throw new StepError(path, `unknown parameter \${${whole[1]}}; known: ${Object.keys(params).join(', ') || '(none)'}`);
      return v;
    }
    return value.replace(PART, (_m, name: string) => {
      const v = paramValue(params, name);
      if (v === undefined) throw new StepError(path, `unknown parameter \${${name}}; known: ${Object.keys(params).join(', ') || '(none)'}`);
      return String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteParams(v, params, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteParams(v, params, [...path, k])]));
  }
  return value;
}

export function compileFault(def: ExchangeFaultDef, overrides: Readonly<Record<string, string | number>> = {}): CompiledFault {
  const declared = def.params ?? {};
  for (const k of Object.keys(overrides)) {
    if (!Object.hasOwn(declared, k)) {
      throw new StepError(['params', k], `fault ${def.id} has no parameter "${k}"; its parameters: ${Object.keys(declared).join(', ') || '(none)'}`);
    }
  }
  const params = { ...declared, ...overrides };
  const resolved = substituteParams(def.steps, params, ['steps']);
  try {
    return { def, params, steps: compileSteps(resolved, ['steps'], { ignoresPeer: def.ignoresPeer === true, protocol: def.protocol ?? 'http' }) };
  } catch (err) {
    // A value out of range that came from a parameter names it: at load the parameter's
    // default is what to change, and at request time the query string's value.
    const names = err instanceof StepError ? paramsAt(def.steps, err.path) : [];
    if (names.length === 0) throw err;
    const which = names.map((n) => `${n}=${String(params[n]).slice(0, 40)}`).join(', ');
    throw new StepError((err as StepError).path, `parameter ${which}: ${(err as StepError).message}`);
  }
}

/**
 * The `${name}` placeholders behind the value at `path` of the steps as written: in that value
 * and everything under it (a step's total size can come from several parameters). A plain
 * value written in the file names none.
 */
function paramsAt(steps: unknown, path: ReadonlyArray<string | number>): string[] {
  let v: unknown = { steps };
  for (const key of path) {
    if (v === null || typeof v !== 'object') return [];
    v = (v as Record<string | number, unknown>)[key];
  }
  const names = new Set<string>();
  collectPlaceholders(v, names);
  return [...names];
}

function collectPlaceholders(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') for (const m of value.matchAll(PART)) into.add(m[1]!);
  else if (Array.isArray(value)) for (const v of value) collectPlaceholders(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) collectPlaceholders(v, into);
}
