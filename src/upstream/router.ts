/**
 * Which fault serves a request: a header override, then routes (path prefix,
 * header), then a seeded weighted mix, then the default. Pure apart from the
 * PRNG state, which the seed makes replayable.
 */
import type { CompiledFault } from '../faults/fault.js';
import { headerValue, type RequestHead } from '../wire/request-head.js';

export interface Route {
  /** Matches this path and everything below it (segment-aware: /a matches /a and /a/b, not /ab). */
  readonly pathPrefix?: string;
  /** Matches when the header is present (and equal to value, if given; case-insensitive). */
  readonly header?: { readonly name: string; readonly value?: string };
  readonly fault: CompiledFault;
}

export interface MixEntry {
  readonly fault: CompiledFault;
  readonly weight: number;
}

export interface Selection {
  readonly fault: CompiledFault;
  readonly via: 'header' | 'route' | 'mix' | 'default';
}

export interface RouterConfig {
  readonly routes: readonly Route[];
  readonly defaultFault: CompiledFault;
  readonly mix?: readonly MixEntry[];
  readonly seed?: number;
}

export function pathMatches(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(prefix + '/');
}

/** mulberry32: tiny, fast and good enough to pick faults; the point is replay, not cryptography. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Router {
  private config: RouterConfig;
  private random: () => number;
  private mixTotal = 0;

  constructor(
    config: RouterConfig,
    /** Resolves a fault named in the override header (with params from the query string); undefined when unknown. */
    private readonly byName?: (id: string, head: RequestHead) => CompiledFault | undefined,
    private readonly overrideHeader: string | undefined = 'x-badgateway-fault',
  ) {
    this.config = config;
    this.random = seededRandom(config.seed ?? Date.now());
    this.mixTotal = sumWeights(config.mix);
  }

  get current(): RouterConfig {
    return this.config;
  }

  /** Replace the table; the PRNG restarts from the seed, so a new mix replays from its start. */
  update(config: RouterConfig): void {
    this.config = config;
    this.random = seededRandom(config.seed ?? Date.now());
    this.mixTotal = sumWeights(config.mix);
  }

  select(head: RequestHead): Selection {
    if (this.overrideHeader && this.byName) {
      const named = headerValue(head, this.overrideHeader);
      if (named !== undefined) {
        const fault = this.byName(named, head);
        if (fault) return { fault, via: 'header' };
      }
    }
    for (const r of this.config.routes) {
      if (r.pathPrefix !== undefined && !pathMatches(head.path, r.pathPrefix)) continue;
      if (r.header !== undefined) {
        const v = headerValue(head, r.header.name);
        if (v === undefined || (r.header.value !== undefined && v.toLowerCase() !== r.header.value.toLowerCase())) continue;
      }
      return { fault: r.fault, via: 'route' };
    }
    const mix = this.config.mix;
    if (mix && mix.length > 0 && this.mixTotal > 0) {
      let x = this.random() * this.mixTotal;
      for (const m of mix) {
        x -= m.weight;
        if (x < 0) return { fault: m.fault, via: 'mix' };
      }
      return { fault: mix[mix.length - 1]!.fault, via: 'mix' };
    }
    return { fault: this.config.defaultFault, via: 'default' };
  }
}

function sumWeights(mix: readonly MixEntry[] | undefined): number {
  return (mix ?? []).reduce((s, m) => s + Math.max(0, m.weight), 0);
}
