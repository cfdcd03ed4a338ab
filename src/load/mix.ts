/**
 * The fault mix of a load run (`--mix healthy:999,keepalive-idle-close:1`) and the seeded
 * sampler that picks request i's fault. The choice is made on the client side, per request,
 * and the request carries it in its path: a gateway that retries a request sends the retry to
 * the same fault, and the same seed gives the same sequence whatever the gateway does. Pure.
 */
import { InputError } from '../errors.js';
import type { Catalogue } from '../faults/registry.js';
// mulberry32: the same numbers on every platform and Node version (Math.random is neither seedable nor specified), which replay needs.
import { seededRandom } from '../upstream/router.js';

export interface LoadMixEntry {
  readonly fault: string;
  readonly weight: number;
  /** The fault's parameters (`--mix keepalive-idle-close?idleMs=5000:1`, a sweep's value, a scenario's fault.params). */
  readonly params?: Readonly<Record<string, string | number>>;
}

/** `id` or `id?k=v&k=v`, as the mix and the replay command line write an entry's fault. */
export function faultRefText(e: Pick<LoadMixEntry, 'fault' | 'params'>): string {
  const p = e.params && Object.keys(e.params).length ? new URLSearchParams(Object.entries(e.params).map(([k, v]): [string, string] => [k, String(v)])).toString() : '';
  return p ? `${e.fault}?${p}` : e.fault;
}

/** Parses `fault:weight,fault?param=value:weight`; every fault must be an HTTP exchange fault of the catalogue. */
export function parseMix(text: string, catalogue: Catalogue): LoadMixEntry[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new InputError('BG_BAD_FLAG', '--mix is empty: give fault:weight pairs, comma-separated, e.g. --mix healthy:999,keepalive-idle-close:1.');
  const seen = new Set<string>();
  const out: LoadMixEntry[] = [];
  for (const p of parts) {
    const m = /^([^:\s]+)(?::(.*))?$/.exec(p);
    const ref = m?.[1] ?? p;
    const q = ref.indexOf('?');
    const id = q === -1 ? ref : ref.slice(0, q);
    let params: Record<string, string | number> | undefined;
    if (q !== -1) {
      params = {};
      // Numbers stay numbers, as `serve --fault ID?p=v` reads them.
      for (const [k, v] of new URLSearchParams(ref.slice(q + 1))) params[k] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    }
    const w = m?.[2];
    if (!catalogue.has(id)) {
      try {
        catalogue.get(id);
      } catch (err) {
        throw new InputError('BG_UNKNOWN_FAULT', `--mix ${text}: ${(err as Error).message}`, { cause: err });
      }
    }
    const def = catalogue.get(id);
    if (def.layer !== 'exchange' || def.protocol === 'fastcgi' || def.protocol === 'h2') {
      const what =
        def.layer === 'listener'
          ? 'a listener fault (it acts on its own port, before any request)'
          : def.layer === 'dns'
            ? 'a DNS fault (it acts on a name, before any request)'
            : def.layer === 'process'
              ? 'a process fault (a supervised backend process of its own, which `badgateway run` starts per scenario)'
              : `${def.protocol === 'h2' ? 'an HTTP/2' : 'a FastCGI'} fault (load speaks HTTP to the gateway, which speaks HTTP/1 to the upstream)`;
      throw new InputError('BG_NOT_EXCHANGE_FAULT', `--mix ${text}: "${id}" is ${what}, so it cannot be chosen per request. A load mix takes HTTP exchange faults only; \`badgateway faults\` lists them with their layer.`);
    }
    if (params) {
      try {
        catalogue.compile(id, params);
      } catch (err) {
        throw new InputError('BG_INVALID_MIX', `--mix ${text}: ${(err as Error).message}. \`badgateway faults\` lists each fault's parameters.`, { cause: err });
      }
    }
    const weight = w === undefined ? 1 : /^\d+(\.\d+)?$/.test(w.trim()) ? Number(w) : NaN;
    if (!Number.isFinite(weight)) throw new InputError('BG_INVALID_MIX', `--mix ${text}: the weight of "${id}" is ${JSON.stringify(w)}, not a number; write fault:weight with a weight >= 0, e.g. ${id}:1.`);
    const key = faultRefText({ fault: id, params });
    if (seen.has(key)) throw new InputError('BG_INVALID_MIX', `--mix ${text}: "${key}" is named twice; give each fault once with its whole weight.`);
    seen.add(key);
    out.push(params ? { fault: id, weight, params } : { fault: id, weight });
  }
  if (out.every((e) => e.weight === 0)) throw new InputError('BG_INVALID_MIX', `--mix ${text}: every weight is 0, so no fault could ever be picked; give at least one a weight above 0.`);
  return out;
}

/** The mix as text, as `parseMix` reads it (for the command line that reproduces a run). */
export function formatMix(mix: readonly LoadMixEntry[]): string {
  return mix.map((e) => `${faultRefText(e)}:${e.weight}`).join(',');
}

/**
 * Picks the index into the mix of each request, in order: the i-th call gives request i's fault.
 * Weights are made cumulative once; a pick is one random number and a short scan.
 */
export class MixSampler {
  private readonly random: () => number;
  private readonly cumulative: number[];
  private readonly total: number;

  constructor(
    readonly mix: readonly LoadMixEntry[],
    readonly seed: number,
  ) {
    this.random = seededRandom(seed);
    let sum = 0;
    this.cumulative = mix.map((e) => (sum += e.weight));
    this.total = sum;
  }

  next(): number {
    // A mix of one fault draws anyway: the sequence of a mix does not depend on its length.
    const x = this.random() * this.total;
    const c = this.cumulative;
    for (let i = 0; i < c.length; i++) if (x < c[i]!) return i;
    return c.length - 1;
  }
}
