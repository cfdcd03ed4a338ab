/**
 * A scenario's own `load:` block: how `badgateway load --scenario ID` drives it (a rate, a
 * duration, connections, a method and a mix). Every key is optional; the mix defaults to the
 * scenario's own fault with its parameters. The values are written as the load flags are
 * (`rate: 500/s`, `duration: 10s`, `mix: healthy:99,keepalive-idle-close:1`) and read by the same
 * parsers, so a block and a command line mean the same.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { Catalogue } from '../faults/registry.js';
import { parseDuration, parseRate } from '../load/flags.js';
import { faultRefText, parseMix, type LoadMixEntry } from '../load/mix.js';

export interface LoadBlock {
  readonly rate?: number;
  readonly durationMs?: number;
  readonly connections?: number;
  readonly method?: 'GET' | 'POST';
  readonly mix: readonly LoadMixEntry[];
  /** `param=v1,v2,...`: as `--sweep`. */
  readonly sweep?: string;
}

export const loadBlockSchema = z.strictObject({
  rate: z.union([z.string(), z.number()]).optional(),
  duration: z.union([z.string(), z.number()]).optional(),
  connections: z.number().int().min(1).max(10_000).optional(),
  method: z.enum(['GET', 'POST']).optional(),
  mix: z.union([z.string(), z.record(z.string(), z.number().min(0))]).optional(),
  sweep: z.string().optional(),
});

type Fail = (path: ReadonlyArray<string | number>, msg: string, atKey?: boolean) => never;

/** The block, checked; a bad value fails at its own key with what the flag's parser says, named as the key. */
export function loadBlockFromYaml(data: z.infer<typeof loadBlockSchema>, own: { readonly fault: string; readonly params: Readonly<Record<string, string | number>> }, catalogue: Catalogue, fail: Fail): LoadBlock {
  const read = <T>(key: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return fail(['load', key], err.message.replace(/^--(rate|duration|mix) /, `$1: `));
    }
  };
  const mixText = data.mix === undefined ? undefined : typeof data.mix === 'string' ? data.mix : Object.entries(data.mix).map(([k, v]) => `${k}:${v}`).join(',');
  // Without a mix the scenario's own fault is the whole mix, and must be one a mix can draw.
  const mix = read('mix', () => parseMix(mixText ?? `${faultRefText(own)}:1`, catalogue));
  return {
    ...(data.rate !== undefined ? { rate: read('rate', () => parseRate(String(data.rate))) } : {}),
    ...(data.duration !== undefined ? { durationMs: read('duration', () => parseDuration('--duration', String(data.duration))) } : {}),
    ...(data.connections !== undefined ? { connections: data.connections } : {}),
    ...(data.method !== undefined ? { method: data.method } : {}),
    ...(data.sweep !== undefined ? { sweep: data.sweep } : {}),
    mix,
  };
}
