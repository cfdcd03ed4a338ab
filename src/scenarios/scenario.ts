import type { FaultDef } from '../faults/fault.js';

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
  /** For sequences: how many requests ended with each status (or no-response), e.g. {"502": ">0", "200": ">=1"}. */
  readonly counts?: Readonly<Record<string, string>>;
}

export interface ScenarioRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  readonly websocket: boolean;
  readonly timeoutMs: number;
}

export interface Sequence {
  readonly count: number;
  readonly spacingMs: number;
  readonly concurrency: number;
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

/** `>=1.23 <1.25`: space-separated comparisons, all must hold. */
export function satisfies(version: string, range: string): boolean {
  return range
    .trim()
    .split(/\s+/)
    .every((part) => {
      const m = /^(>=|<=|>|<|=)?(\d+(?:\.\d+)*)$/.exec(part);
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

export const RANGE = /^(>=|<=|>|<|=)?\d+(\.\d+)*(\s+(>=|<=|>|<|=)?\d+(\.\d+)*)*$/;

/**
 * The expectation for a gateway at a version: the plain `<gateway>` entry, with
 * every matching `<gateway>@<range>` entry merged over it in file order.
 */
export function expectationFor(s: Scenario, gateway: string, version: string | undefined): Expectation | undefined {
  let out: Expectation | undefined = s.expect[gateway];
  for (const [key, exp] of Object.entries(s.expect)) {
    const at = key.indexOf('@');
    if (at === -1 || key.slice(0, at) !== gateway) continue;
    if (version !== undefined && satisfies(version, key.slice(at + 1))) out = { ...(out ?? {}), ...exp };
  }
  return out;
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
