import type { BackendSpec } from '../backends/backend.js';
import type { FaultDef } from '../faults/fault.js';
import type { LoadBlock } from './load-block.js';

/** What a scenario is: a fault, the request(s) a client sends through the gateway, and what is expected per gateway. */
import type { ExpectedReason } from '../gateways/reasons.js';

export type BodyState = 'complete' | 'truncated' | 'none';

export type StatusExpectation = number | 'no-response' | 'no-status-line';

export interface Expectation {
  /** One status, or any of several (a gateway that is honestly nondeterministic). */
  readonly status?: StatusExpectation | readonly StatusExpectation[];
  /** One body state, or several that are all acceptable (a race the gateway itself has). */
  readonly body?: BodyState | readonly BodyState[];
  /** Normalized reason(s) from the gateway log, any of them; `none` = no reason line for the request. Checked when loaded. */
  readonly reason?: ExpectedReason | readonly ExpectedReason[];
  readonly maxMs?: number;
  readonly minMs?: number;
  readonly websocket?: { readonly upgraded?: boolean; readonly closeCode?: number };
  /** A gRPC call's grpc-status as the client read it (trailers, or a trailers-only reply); `none` = the reply carried none. */
  readonly grpcStatus?: number | 'none';
  /** For sequences: how many requests ended with each status (or no-response), e.g. {"502": ">0", "200": ">=1"}. */
  readonly counts?: Readonly<Record<string, string>>;
  /**
   * `crashes`: this gateway (version) dies on this scenario, and that is what it is measured
   * doing. Then a crash passes (the other keys are not checked: what the client sees of a dying
   * gateway is a race), and no crash fails, so the suite notices when an upgrade fixes it.
   */
  readonly gateway?: 'crashes';
  /**
   * The expectation is taken from documentation, not measured: the source, its title and URL
   * (e.g. "AWS, Troubleshoot your Application Load Balancers https://docs.aws.amazon.com/...").
   * Reports show it apart from a measured one, and a failure says "contradicts <source>".
   */
  readonly documented?: string;
}

export interface ScenarioRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  readonly websocket: boolean;
  /**
   * A gRPC call (`request.grpc: true`): the request carries content-type application/grpc and
   * te: trailers, and the gateway is told to proxy gRPC (GatewayRoute.protocol 'grpc').
   */
  readonly grpc?: boolean;
  readonly timeoutMs: number;
}

export interface Sequence {
  readonly count: number;
  readonly spacingMs: number;
  readonly concurrency: number;
}

/** One server of a pool (`upstreams:`): its fault, and how the gateway weighs it. */
export interface PoolMember {
  readonly fault: string;
  readonly faultDef: FaultDef;
  readonly params: Readonly<Record<string, string | number>>;
  /** Relative share of requests (nginx weight, HAProxy weight, Apache loadfactor); 1 unless given. */
  readonly weight: number;
  /** Used only when every non-backup server has failed (nginx backup, HAProxy backup, Apache status=+H). */
  readonly backup: boolean;
  /** An exchange member that serves its fault to this many requests, then `healthy`: a server that comes back. */
  readonly recoverAfter?: number;
}

export interface Scenario {
  readonly id: string;
  readonly file: string;
  readonly description: string;
  readonly fault: string;
  /** The fault itself, resolved from the catalogue when the scenario was loaded. */
  readonly faultDef: FaultDef;
  readonly params: Readonly<Record<string, string | number>>;
  /** How the gateway reaches an exchange fault. */
  readonly upstream: 'tcp' | 'unix' | 'dns';
  /** Pool upstream connections (keep-alive) for this route. */
  readonly keepalive: boolean;
  readonly request: ScenarioRequest;
  readonly sequence?: Sequence;
  /** Expectations by key: a gateway id, or `<gateway>@<version range>` (e.g. nginx@>=1.23). */
  readonly expect: Readonly<Record<string, Expectation>>;
  readonly tags: readonly string[];
  /** A real application server plays the upstream (php-fpm, gunicorn) instead of a fault; `fault` then names its kind. */
  readonly backend?: BackendSpec;
  /** The chaos-upstream scenario that plays the same situation: the report says whether the gateway answers both alike. */
  readonly counterpart?: string;
  /**
   * Several upstream servers behind the route (`upstreams:`), each at an address of its own;
   * `fault`/`faultDef`/`params` are then the first member's.
   */
  readonly pool?: readonly PoolMember[];
  /** `tls: true`: the exchange fault is served over the upstream's healthy TLS listener. */
  readonly tls?: boolean;
  /**
   * What the gateway is told to do with the upstream's certificate, in a TLS scenario (`tls: true`
   * or a TLS listener fault): `default` renders no directive (the gateway's own default).
   */
  readonly tlsVerify?: TlsVerify;
  /** How `badgateway load --scenario ID` drives it (src/scenarios/load-block.ts). */
  readonly load?: LoadBlock;
  /**
   * What a safe gateway refuses here, e.g. "an expired upstream certificate": when the upstream's
   * response still reaches the client, the case carries a security finding (src/harness/security.ts).
   */
  readonly mustRefuse?: string;
}

export type TlsVerify = 'default' | 'on' | 'off';

/**
 * A gateway version as expectations are keyed by: the release, and the toolchain that decides
 * part of its behaviour after `+go` or `+node`. A Go-built gateway names the Go it was built with
 * (`2.6.2+go1.19.8`): Debian's Caddy 2.6.2 built with Go 1.24 rejects header bytes that the same
 * release built with Go 1.19 relays. A Node proxy names the Node it runs on
 * (`3.0.11+node20.20`): Node's HTTP parser (llhttp) and undici come with it.
 */
export interface GatewayVersion {
  readonly release: string;
  readonly go?: string;
  readonly node?: string;
}

/** The toolchains a version or range may name after `+`. */
const TOOLCHAINS = ['go', 'node'] as const;

export function parseGatewayVersion(v: string): GatewayVersion {
  const m = /\+(go|node)/.exec(v);
  return m ? { release: v.slice(0, m.index), [m[1]!]: v.slice(m.index + m[0].length) } : { release: v };
}

/** Compare dotted versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Order gateway versions: by release, then by Go toolchain when both name one. */
export function compareGatewayVersions(a: string, b: string): number {
  const va = parseGatewayVersion(a);
  const vb = parseGatewayVersion(b);
  const tool = (t: (typeof TOOLCHAINS)[number]) => (va[t] !== undefined && vb[t] !== undefined ? compareVersions(va[t], vb[t]) : 0);
  return compareVersions(va.release, vb.release) || tool('go') || tool('node');
}

const COMPARISON = /^(>=|<=|>|<|=)?(\d+(?:\.\d+)*)$/;

function allHold(version: string, comparisons: string): boolean {
  return comparisons
    .trim()
    .split(/\s+/)
    .every((part) => {
      const m = COMPARISON.exec(part);
      if (!m) return false;
      const c = compareVersions(version, m[2]!);
      switch (m[1] ?? '=') {
        case '>=': return c >= 0;
        case '<=': return c <= 0;
        case '>': return c > 0;
        case '<': return c < 0;
        default: return c === 0;
      }
    });
}

/**
 * `>=1.23 <1.25`: space-separated comparisons, all must hold. After `+go`, comparisons on the
 * Go toolchain (`2.6.2+go>=1.20`, or `+go<1.20` for any release), likewise after `+node` on
 * Node's (`+node>=22`): a version that does not name that toolchain satisfies no such range.
 */
export function satisfies(version: string, range: string): boolean {
  const v = parseGatewayVersion(version);
  const r = parseGatewayVersion(range.trim());
  if (r.release.trim() !== '' && !allHold(v.release, r.release)) return false;
  const named = TOOLCHAINS.filter((t) => r[t] !== undefined);
  if (named.length === 0) return r.release.trim() !== '';
  return named.every((t) => v[t] !== undefined && allHold(v[t], r[t]!));
}

const COMPARISONS = String.raw`(>=|<=|>|<|=)?\d+(\.\d+)*(\s+(>=|<=|>|<|=)?\d+(\.\d+)*)*`;
export const RANGE = new RegExp(`^(${COMPARISONS}\\s*(\\+(go|node)${COMPARISONS})?|\\+(go|node)${COMPARISONS})$`);

/** The keys of a scenario's expectations that apply to a gateway at a version: its plain key, then each matching range, in file order. */
function keysFor(s: Scenario, gateway: string, version: string | undefined): string[] {
  return Object.keys(s.expect).filter((key) => {
    if (key === gateway) return true;
    const at = key.indexOf('@');
    return at !== -1 && key.slice(0, at) === gateway && version !== undefined && satisfies(version, key.slice(at + 1));
  });
}

/**
 * The expectation for a gateway at a version as the scenario file writes it: the plain
 * `<gateway>` entry, with every matching `<gateway>@<range>` entry merged over it in file order.
 * Whether that version was measured is `resolveExpectation`'s question.
 */
export function expectationFor(s: Scenario, gateway: string, version: string | undefined): Expectation | undefined {
  let out: Expectation | undefined;
  for (const key of keysFor(s, gateway, version)) out = { ...(out ?? {}), ...s.expect[key] };
  return out;
}

/** What a scenario expects of a gateway at a version, and whether that was measured there. */
export type Resolved =
  /** Judged: the version lies between measured versions that the same keys apply to. */
  | { readonly measured: true; readonly expectation: Expectation }
  /** Not judged. `from`: the measured version the nearest expectation comes from, and that expectation. */
  | { readonly measured: false; readonly why: string; readonly from?: { readonly version: string; readonly expectation: Expectation } };

/**
 * The expectation for a gateway at a version, judged only where it was measured. `measuredOn`
 * lists the versions the whole suite was measured on (the adapter's). A version is judged when
 * it is one of them, or when the measured versions next to it on both sides get the same
 * expectation keys (plain key and ranges) as it does: a plain key thus applies between the
 * lowest and highest measured version, and `nginx@>=1.26` between the measured versions it
 * matches, but never across a measured version that behaved otherwise. Anywhere else the
 * expectation would be borrowed from another version, so the case is reported as not measured,
 * naming the nearest measured version with the same keys (else the nearest one) and what it
 * expects. Without `measuredOn` (a user's scenarios for a gateway we never measured) every key
 * is taken as written.
 */
export function resolveExpectation(s: Scenario, gateway: string, version: string | undefined, measuredOn: readonly string[] | undefined): Resolved {
  const own = Object.keys(s.expect).filter((k) => k === gateway || k.startsWith(`${gateway}@`));
  if (own.length === 0) return { measured: false, why: `no expectation measured for ${gateway}` };
  if (!measuredOn || measuredOn.length === 0) {
    const e = expectationFor(s, gateway, version);
    return e ? { measured: true, expectation: e } : { measured: false, why: unmeasured(s, gateway, version) };
  }
  const signature = (v: string | undefined): string => keysFor(s, gateway, v).join('\n');
  const sorted = [...measuredOn].sort(compareGatewayVersions);
  const from = (m: string | undefined) => {
    const e = m === undefined ? undefined : expectationFor(s, gateway, m);
    return e ? { version: m!, expectation: e } : undefined;
  };
  if (version === undefined) {
    return { measured: false, why: `not measured on ${gateway} (version unknown)`, from: from(sorted[sorted.length - 1]) };
  }
  const sig = signature(version);
  const below = sorted.filter((m) => compareGatewayVersions(m, version) < 0);
  const above = sorted.filter((m) => compareGatewayVersions(m, version) > 0);
  const exact = sorted.some((m) => compareGatewayVersions(m, version) === 0 && signature(m) === sig);
  const lower = below[below.length - 1];
  const upper = above[0];
  const inside = exact || (lower !== undefined && upper !== undefined && signature(lower) === sig && signature(upper) === sig);
  const expectation = expectationFor(s, gateway, version);
  if (inside) return expectation ? { measured: true, expectation } : { measured: false, why: unmeasured(s, gateway, version) };
  // The nearest measured version that gets the same keys, below first; else the nearest at all.
  const same = (m: string) => signature(m) === sig;
  const near = [...below].reverse().find(same) ?? above.find(same) ?? lower ?? upper;
  return { measured: false, why: `not measured on ${gateway} ${version}`, from: from(near) };
}

/**
 * Why a scenario has no expectation for a gateway at a version: none was measured on that
 * gateway at all, or only on other versions. The outcome is then reported, not judged.
 */
export function unmeasured(s: Scenario, gateway: string, version: string | undefined): string {
  const keys = Object.keys(s.expect).filter((k) => k === gateway || k.startsWith(`${gateway}@`));
  if (keys.length === 0) return `no expectation measured for ${gateway}`;
  return `no expectation measured for ${gateway} ${version ?? '(version unknown)'} (measured: ${keys.join(', ')})`;
}
