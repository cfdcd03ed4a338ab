/**
 * The catalogue: built-in faults plus any the user loaded from YAML, looked up
 * by id. An unknown id is a user error that names the closest ids.
 */
import { closest, InputError } from '../errors.js';
import { parseYaml, readYaml, type YamlSource } from '../yaml-source.js';
import { BUILTIN_FAULTS } from './builtin/index.js';
import { compileFault, type CompiledFault, type ExchangeFaultDef, type FaultDef, type ListenerFaultDef } from './fault.js';
import { tlsListenerFromYaml } from './tls-yaml.js';
import { StepError } from './steps.js';

/**
 * Where a custom fault was written (file:line:column of its id), for the error that names both
 * faults when two share an id. Kept beside the definitions, not in them: a FaultDef stays the
 * plain data a user writes.
 */
const origins = new WeakMap<FaultDef, string>();

/** Bytes written out in the file can still be more than a string holds (V8 caps strings near 512 MiB); the user's data, not a bug. */
const TOO_BIG = 'its steps ask for more bytes than fit in memory; make the writes smaller, or use {repeat, times} (generated as it is written, up to 1 GiB a step)';

function describeOrigin(def: FaultDef): string {
  const at = origins.get(def);
  if (at !== undefined) return `the custom fault at ${at}`;
  return BUILTIN_FAULTS.includes(def) ? 'a built-in fault' : 'a custom fault added earlier';
}

export class Catalogue {
  private readonly byId = new Map<string, FaultDef>();

  constructor(defs: readonly FaultDef[] = BUILTIN_FAULTS) {
    for (const d of defs) this.add(d);
  }

  /**
   * Adds a fault; an id already taken is an error, never a silent replacement: a custom fault
   * that shadowed a built-in would change what a scenario named after the built-in tests.
   */
  add(def: FaultDef): void {
    const taken = this.byId.get(def.id);
    if (taken === def) return;
    if (taken !== undefined) {
      const where = origins.get(def);
      if (where !== undefined && where === origins.get(taken)) {
        throw new InputError('BG_DUPLICATE_FAULT', `${where}: fault "${def.id}" was loaded twice: the same fault file was given twice. Give each fault file once.`);
      }
      const builtin = BUILTIN_FAULTS.includes(taken);
      throw new InputError(
        'BG_DUPLICATE_FAULT',
        `${where === undefined ? '' : `${where}: `}fault id "${def.id}" is already taken by ${describeOrigin(taken)}. ` +
          (builtin ? `A custom fault cannot replace a built-in one; give yours another id, e.g. my-${def.id}.` : 'Fault ids must be unique across every fault file; rename one of them.'),
      );
    }
    // A definition made in code, not loaded from YAML (checked there): a broken step fails here, not at the first request.
    if (def.layer === 'exchange' && !origins.has(def) && !BUILTIN_FAULTS.includes(def)) compileChecked(def);
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
      throw new InputError('BG_NOT_EXCHANGE_FAULT', `fault "${id}" acts at the ${def.layer} layer, not per request: it has its own ${def.layer === 'dns' ? 'DNS name' : def.layer === 'process' ? 'backend process, which `badgateway run` starts per scenario' : 'listener'}, not a route.`);
    }
    return compileChecked(def, params);
  }
}

function compileChecked(def: ExchangeFaultDef, params: Readonly<Record<string, string | number>> = {}): CompiledFault {
  try {
    return compileFault(def, params);
  } catch (err) {
    if (err instanceof StepError) throw new InputError('BG_INVALID_FAULT', `fault ${def.id}: ${err.path.join('.')}: ${err.message}`);
    if (err instanceof RangeError) throw new InputError('BG_INVALID_FAULT', `fault ${def.id}: ${TOO_BIG} (${err.message})`);
    throw err;
  }
}

const ID = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Custom faults from a YAML source: either one fault (a map with id and steps, or a TLS listener
 * fault: layer listener and a tls: block) or `faults:` with a list of them. Every problem names
 * file:line:col.
 */
export function faultsFromYaml(src: YamlSource): Array<ExchangeFaultDef | ListenerFaultDef> {
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
  const out: Array<ExchangeFaultDef | ListenerFaultDef> = [];
  const seen = new Map<string, string>();
  for (const [raw, base] of list) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(base, 'a fault is a map with id, summary and steps');
    const f = raw as Record<string, unknown>;
    if (f.layer === 'listener') {
      if (typeof f.id !== 'string' || !ID.test(f.id)) fail([...base, 'id'], 'id must be kebab-case (lower-case letters, digits and dashes), e.g. my-tls-fault');
      if (seen.has(f.id as string)) throw new InputError('BG_DUPLICATE_FAULT', `${src.where([...base, 'id'])}: fault id "${f.id}" is already used in this file, at ${seen.get(f.id as string)}; give each fault its own id.`);
      seen.set(f.id as string, src.where([...base, 'id']));
      const def = tlsListenerFromYaml(f, base, fail);
      origins.set(def, src.where([...base, 'id']));
      out.push(def);
      continue;
    }
    for (const key of Object.keys(f)) {
      if (!['id', 'summary', 'explain', 'params', 'steps', 'layer', 'ignoresPeer', 'protocol'].includes(key)) {
        fail([...base, key], `unknown key "${key}"; a fault has id, summary, explain, params, steps, ignoresPeer, protocol`, true);
      }
    }
    if (typeof f.id !== 'string' || !ID.test(f.id)) fail([...base, 'id'], 'id must be kebab-case (lower-case letters, digits and dashes), e.g. my-fault');
    const firstAt = seen.get(f.id as string);
    if (firstAt !== undefined) {
      throw new InputError('BG_DUPLICATE_FAULT', `${src.where([...base, 'id'])}: fault id "${f.id}" is already used in this file, at ${firstAt}; give each fault its own id.`);
    }
    seen.set(f.id as string, src.where([...base, 'id']));
    if (f.layer !== undefined && f.layer !== 'exchange') fail([...base, 'layer'], 'custom faults are exchange faults (a script of steps; leave layer out or set it to exchange) or TLS listener faults (layer: listener with a tls: block)');
    if (f.summary !== undefined && typeof f.summary !== 'string') fail([...base, 'summary'], 'summary must be a string');
    if (f.explain !== undefined && typeof f.explain !== 'string') fail([...base, 'explain'], 'explain must be a string');
    if (f.protocol !== undefined && f.protocol !== 'http' && f.protocol !== 'fastcgi' && f.protocol !== 'h2') fail([...base, 'protocol'], 'protocol is http (the default), fastcgi or h2');
    if (f.ignoresPeer !== undefined && typeof f.ignoresPeer !== 'boolean') fail([...base, 'ignoresPeer'], 'ignoresPeer must be true or false');
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
      ...(f.ignoresPeer === true ? { ignoresPeer: true } : {}),
      ...(f.protocol === 'fastcgi' || f.protocol === 'h2' ? { protocol: f.protocol } : {}),
    };
    try {
      compileFault(def);
    } catch (err) {
      if (err instanceof StepError) fail([...base, ...err.path], err.message);
      if (err instanceof RangeError) fail([...base, 'steps'], `${TOO_BIG} (${err.message})`);
      throw err;
    }
    origins.set(def, src.where([...base, 'id']));
    out.push(def);
  }
  return out;
}

export async function loadFaultFile(file: string): Promise<Array<ExchangeFaultDef | ListenerFaultDef>> {
  return faultsFromYaml(await readYaml(file));
}

export function loadFaultText(text: string, file = '<inline>'): Array<ExchangeFaultDef | ListenerFaultDef> {
  return faultsFromYaml(parseYaml(text, file));
}
