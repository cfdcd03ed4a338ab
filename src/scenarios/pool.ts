/**
 * `upstreams:` in a scenario file: several upstream servers behind one route, each a fault at
 * an address of its own. Checked here, with file:line for every problem, so a pool the harness
 * cannot give addresses to stops before any gateway starts.
 */
import { z } from 'zod';
import { closest } from '../errors.js';
import type { Catalogue } from '../faults/registry.js';
import { processParams } from '../process/behavior.js';
import type { PoolMember } from './scenario.js';

/** Apache's loadfactor is 1..100, the narrowest of the four gateways' weights (nginx and HAProxy take more). */
export const MAX_WEIGHT = 100;

const params = z.record(z.string(), z.union([z.string(), z.number()]));

export const upstreamsSchema = z.array(
  z.union([
    z.string(),
    z.strictObject({
      fault: z.string(),
      params: params.optional(),
      weight: z.number().int().min(1).max(MAX_WEIGHT, `a weight is 1 to ${MAX_WEIGHT} (Apache's loadfactor range)`).optional(),
      backup: z.boolean().optional(),
      recoverAfter: z.number().int().min(1).max(10_000).optional(),
    }),
  ]),
);

export type UpstreamsYaml = z.infer<typeof upstreamsSchema>;

type Fail = (path: ReadonlyArray<string | number>, msg: string, atKey?: boolean) => never;

/**
 * The pool's members, resolved from the catalogue. Every member must have an address of its
 * own: an exchange fault gets a chaos upstream of its own, a process fault a supervised backend
 * of its own, a listener fault its listener's port (so one listener fault can be a member once),
 * and a DNS fault has no address at all.
 */
export function poolFromYaml(items: UpstreamsYaml, catalogue: Catalogue, fail: Fail): PoolMember[] {
  if (items.length < 2) {
    fail(['upstreams'], `a pool needs at least 2 servers (it has ${items.length}); for one server write \`fault: <id>\` instead of upstreams:`);
  }
  const seenListeners = new Set<string>();
  const members = items.map((item, i): PoolMember => {
    const at = typeof item === 'string' ? ['upstreams', i] : ['upstreams', i, 'fault'];
    const id = typeof item === 'string' ? item : item.fault;
    if (!catalogue.has(id)) fail(at, `unknown fault "${id}". Closest: ${closest(id, catalogue.ids()).join(', ')}. \`badgateway faults\` lists them.`);
    const def = catalogue.get(id);
    const p = typeof item === 'string' ? {} : (item.params ?? {});
    if (def.layer === 'dns') {
      fail(at, `fault ${id} is a DNS fault: it plays a name, not a server, so it cannot be a pool member. Members are exchange faults (each gets a chaos upstream of its own), process faults (a backend process each) or listener faults (their own port); put a DNS fault in \`fault:\` of a scenario of its own`);
    }
    if (def.layer === 'process') {
      // A supervised backend process of its own, on its own port, like an exchange member's upstream.
      try {
        processParams(def, p);
      } catch (err) {
        fail(typeof item === 'string' ? at : ['upstreams', i, 'params'], (err as Error).message);
      }
      if (typeof item !== 'string' && item.recoverAfter !== undefined) {
        fail(['upstreams', i, 'recoverAfter'], `recoverAfter: applies to exchange faults; ${id} is a process fault, whose backend comes back (or not) as its own params say (e.g. downMs, restartMs)`);
      }
    }
    if (def.layer !== 'process' && (def.protocol === 'fastcgi' || def.protocol === 'h2')) {
      fail(at, `fault ${id} speaks ${def.protocol === 'h2' ? 'HTTP/2' : 'FastCGI'}; a pool's members are HTTP/1 servers (exchange, process or listener faults)`);
    }
    if (def.layer === 'exchange') {
      try {
        catalogue.compile(id, p);
      } catch (err) {
        fail(typeof item === 'string' ? at : ['upstreams', i, 'params'], (err as Error).message);
      }
    } else if (def.layer === 'listener') {
      if (typeof item !== 'string' && item.recoverAfter !== undefined) {
        fail(['upstreams', i, 'recoverAfter'], `recoverAfter: applies to exchange faults (a server that answers its fault to the first N requests, then healthy); ${id} is a listener fault, whose port behaves the same for the whole run`);
      }
      if (Object.keys(p).length > 0) fail(['upstreams', i, 'params'], `fault ${id} takes no parameters`);
      // A listener fault has one port for the whole run: a second member would be the same server.
      if (seenListeners.has(id)) fail(at, `listener fault ${id} is already a member of this pool, and a listener fault has one port: both would be the same server. Use another listener fault, or an exchange fault (each exchange member gets an address of its own)`);
      seenListeners.add(id);
    }
    return {
      fault: id,
      faultDef: def,
      params: p,
      weight: typeof item === 'string' ? 1 : (item.weight ?? 1),
      backup: typeof item === 'string' ? false : (item.backup ?? false),
      ...(typeof item !== 'string' && item.recoverAfter !== undefined ? { recoverAfter: item.recoverAfter } : {}),
    };
  });
  if (members.every((m) => m.backup)) fail(['upstreams'], 'every server of the pool is a backup; at least one must not be (a backup is used only when the others have failed)');
  return members;
}
