/**
 * `--sweep param=v1,v2,...`: one load run per value of an upstream timing parameter (a fault
 * parameter such as keepalive-idle-close's idleMs), the rest of the run unchanged, so a report
 * can put the error rate of each value on one row. Pure.
 */
import { InputError } from '../errors.js';
import type { Catalogue } from '../faults/registry.js';
import type { LoadMixEntry } from './mix.js';
import type { LoadResult } from './run.js';

export interface Sweep {
  readonly param: string;
  readonly values: ReadonlyArray<string | number>;
  /** The mix entries (by index) whose fault declares the parameter. */
  readonly entries: readonly number[];
}

export interface SweepResult {
  readonly format: 'badgateway-load-sweep/1';
  readonly param: string;
  readonly rows: ReadonlyArray<{ readonly value: string | number; readonly result: LoadResult }>;
  /** Stopped by Ctrl-C: the rows run so far, the last one partial. */
  readonly interrupted: boolean;
}

/** The parameters each fault of the mix declares, for the error that names them. */
function declared(mix: readonly LoadMixEntry[], catalogue: Catalogue): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of mix) {
    const def = catalogue.get(e.fault);
    const names = def.layer === 'exchange' ? Object.keys(def.params ?? {}) : [];
    for (const n of names) out.set(n, [...(out.get(n) ?? []), e.fault]);
  }
  return out;
}

/** Values a sweep may have: each is a load run of its own, kept whole for the report. */
export const MAX_SWEEP_VALUES = 50;

export function parseSweep(text: string, mix: readonly LoadMixEntry[], catalogue: Catalogue): Sweep {
  const eq = text.indexOf('=');
  const param = eq === -1 ? '' : text.slice(0, eq).trim();
  const values = eq === -1 ? [] : text.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (param === '' || values.length === 0) throw new InputError('BG_BAD_FLAG', `--sweep ${JSON.stringify(text)} is not a sweep: write PARAM=V1,V2,... with a parameter of a fault in the mix, e.g. --mix healthy:99,keepalive-idle-close:1 --sweep idleMs=1000,5000,60000.`);
  const params = declared(mix, catalogue);
  if (!params.has(param)) {
    const known = [...params].map(([n, faults]) => `${n} (${faults.join(', ')})`).join(', ');
    throw new InputError('BG_BAD_FLAG', `--sweep ${param}: no fault of the mix has a parameter "${param}"; ${known ? `the mix's faults take ${known}` : 'the faults of this mix take no parameters'}. \`badgateway faults\` lists each fault's parameters.`);
  }
  if (values.length > MAX_SWEEP_VALUES) throw new InputError('BG_BAD_FLAG', `--sweep ${param}= names ${values.length} values; give at most ${MAX_SWEEP_VALUES} (each is a whole load run of --duration).`);
  if (new Set(values).size !== values.length) throw new InputError('BG_BAD_FLAG', `--sweep ${text} names a value twice; give each once (one run per value).`);
  const typed = values.map((v) => (Number.isFinite(Number(v)) ? Number(v) : v));
  for (const v of typed) {
    for (const e of mix) {
      if (!params.get(param)!.includes(e.fault)) continue;
      try {
        catalogue.compile(e.fault, { ...e.params, [param]: v });
      } catch (err) {
        throw new InputError('BG_BAD_FLAG', `--sweep ${param}=${v}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  const entries = mix.flatMap((e, i) => (params.get(param)!.includes(e.fault) ? [i] : []));
  return { param, values: typed, entries };
}

/** The mix with the sweep's parameter set to `value` on every fault that declares it. */
export function sweptMix(mix: readonly LoadMixEntry[], sweep: Sweep, value: string | number): LoadMixEntry[] {
  return mix.map((e, i) => (sweep.entries.includes(i) ? { ...e, params: { ...e.params, [sweep.param]: value } } : e));
}
