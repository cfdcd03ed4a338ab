/**
 * The catalogue: built-in faults plus any the user loaded from YAML, looked up
 * by id. An unknown id is a user error that names the closest ids.
 */
import { closest, InputError } from '../errors.js';
import { parseYaml, readYaml, type YamlSource } from '../yaml-source.js';
import { BUILTIN_FAULTS } from './builtin/index.js';
import { compileFault, type CompiledFault, type ExchangeFaultDef, type FaultDef } from './fault.js';
import { StepError } from './steps.js';

export class Catalogue {
  private readonly byId = new Map<string, FaultDef>();

  constructor(defs: readonly FaultDef[] = BUILTIN_FAULTS) {
    for (const d of defs) this.add(d);
  }

  add(def: FaultDef): void {
    this.byId.set(def.id, def);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  list(): FaultDef[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  get(id: string): FaultDef {
    const def = this.byId.get(id);
    if (def) return def;
    const near = closest(id, this.ids());
    throw new InputError('BG_UNKNOWN_FAULT', `unknown fault "${id}". Closest: ${near.join(', ')}. Run \`badgateway faults\` for the whole catalogue.`);
  }

  /** The compiled script of an exchange fault; listener and dns faults are not scripts. */
  compile(id: string, params: Readonly<Record<string, string | number>> = {}): CompiledFault {
    const def = this.get(id);
    if (def.layer !== 'exchange') {
      throw new InputError('BG_NOT_EXCHANGE_FAULT', `fault "${id}" acts at the ${def.layer} layer, not per request: it has its own ${def.layer === 'dns' ? 'DNS name' : 'listener'}, not a route.`);
    }
    try {
      return compileFault(def, params);
    } catch (err) {
      if (err instanceof StepError) throw new InputError('BG_INVALID_FAULT', `fault ${id}: ${err.path.join('.')}: ${err.message}`);
      throw err;
    }
  }
}

const ID = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Custom exchange faults from a YAML source: either one fault (a map with id
 * and steps) or `faults:` with a list of them. Every problem names file:line:col.
 */
export function faultsFromYaml(src: YamlSource): ExchangeFaultDef[] {
  const data = src.data as Record<string, unknown> | null;
  const fail = (path: Array<string | number>, msg: string, atKey = false): never => {
    throw new InputError('BG_INVALID_FAULT', `${src.where(path, atKey)}: ${msg}`);
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail([], 'a fault file is a map: either one fault (id, summary, steps) or `faults:` with a list of them');
  }
  const list: Array<[unknown, Array<string | number>]> = Array.isArray(data.faults)
    ? data.faults.map((f, i) => [f, ['faults', i]])
    : [[data, []]];
  const out: ExchangeFaultDef[] = [];
  for (const [raw, base] of list) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(base, 'a fault is a map with id, summary and steps');
    const f = raw as Record<string, unknown>;
    for (const key of Object.keys(f)) {
      if (!['id', 'summary', 'explain', 'params', 'steps', 'layer'].includes(key)) {
        fail([...base, key], `unknown key "${key}"; a fault has id, summary, explain, params, steps`, true);
      }
    }
    if (typeof f.id !== 'string' || !ID.test(f.id)) fail([...base, 'id'], 'id must be kebab-case (lower-case letters, digits and dashes), e.g. my-fault');
    if (f.layer !== undefined && f.layer !== 'exchange') fail([...base, 'layer'], 'custom faults are exchange faults (a script of steps); leave layer out or set it to exchange');
    if (f.summary !== undefined && typeof f.summary !== 'string') fail([...base, 'summary'], 'summary must be a string');
    if (f.explain !== undefined && typeof f.explain !== 'string') fail([...base, 'explain'], 'explain must be a string');
    if (f.params !== undefined) {
      if (f.params === null || typeof f.params !== 'object' || Array.isArray(f.params)) fail([...base, 'params'], 'params must be a map of name: default value');
      for (const [k, v] of Object.entries(f.params as object)) {
        if (typeof v !== 'number' && typeof v !== 'string') fail([...base, 'params', k], 'a parameter default must be a number or a string');
      }
    }
    const def: ExchangeFaultDef = {
      id: f.id as string,
      layer: 'exchange',
      summary: (f.summary as string | undefined) ?? `custom fault from ${src.file}`,
      explain: (f.explain as string | undefined) ?? '',
      params: f.params as Record<string, string | number> | undefined,
      steps: f.steps as ExchangeFaultDef['steps'],
    };
    try {
      compileFault(def);
    } catch (err) {
      if (err instanceof StepError) fail([...base, ...err.path], err.message);
      throw err;
    }
    out.push(def);
  }
  return out;
}

export async function loadFaultFile(file: string): Promise<ExchangeFaultDef[]> {
  return faultsFromYaml(await readYaml(file));
}

export function loadFaultText(text: string, file = '<inline>'): ExchangeFaultDef[] {
  return faultsFromYaml(parseYaml(text, file));
}
