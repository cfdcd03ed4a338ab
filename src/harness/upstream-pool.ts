/**
 * Pools (`upstreams:`): where each server of a pool scenario lives. An exchange member gets a
 * chaos upstream of its own (its own port, so the gateway sees distinct servers and a member's
 * fault never answers another member's request); a process member a supervised backend of its
 * own (started by execute.ts with the scenario's process backends); a listener member is its
 * listener fault's port.
 * Pure: execute.ts starts the upstreams this asks for.
 */
import type { GatewayRoute, PoolServer } from '../gateways/gateway.js';
import { routePath } from '../gateways/paths.js';
import type { PoolMember, Scenario } from '../scenarios/scenario.js';
import type { RouteSpec, StartedUpstream } from '../upstream/upstream.js';

/** One exchange member that needs an upstream of its own. */
export interface PoolUpstream {
  /** `<scenario id>#<member index>`: the key of its port in ChaosAddresses.poolPorts. */
  readonly key: string;
  /** The member's fault under the scenario's path, the only route of its upstream. */
  readonly route: RouteSpec;
  /** Serve the route's fault to this many requests, then healthy (PoolMember.recoverAfter). */
  readonly recoverAfter?: number;
}

export function poolKey(scenarioId: string, member: number): string {
  return `${scenarioId}#${member}`;
}

/** The upstreams the pool scenarios of a run need: one per exchange member. */
export function poolUpstreams(scenarios: readonly Scenario[]): PoolUpstream[] {
  return scenarios.flatMap((s) =>
    (s.pool ?? []).flatMap((m, i) =>
      m.faultDef.layer === 'exchange'
        ? [{ key: poolKey(s.id, i), route: { pathPrefix: routePath(s.id).slice(0, -1), fault: m.fault, params: m.params }, ...(m.recoverAfter !== undefined ? { recoverAfter: m.recoverAfter } : {}) }]
        : [],
    ),
  );
}

/** One process member: a supervised backend of its own, its port under `key` in ChaosAddresses.poolPorts. */
export interface PoolProcess {
  readonly key: string;
  readonly scenario: Scenario;
  readonly member: PoolMember;
}

/** The supervised backends the pool scenarios of a run need: one per process member. */
export function poolProcesses(scenarios: readonly Scenario[]): PoolProcess[] {
  return scenarios.flatMap((s) => (s.pool ?? []).flatMap((m, i) => (m.faultDef.layer === 'process' ? [{ key: poolKey(s.id, i), scenario: s, member: m }] : [])));
}

/** The listener faults pool members need started. */
export function poolListenerFaults(scenarios: readonly Scenario[]): string[] {
  return scenarios.flatMap((s) => (s.pool ?? []).filter((m) => m.faultDef.layer === 'listener').map((m) => m.fault));
}

/** A pool scenario's route: every member at its address; `target` is the first one's. */
export function poolRoute(
  s: Scenario,
  base: Omit<GatewayRoute, 'target' | 'pool'>,
  host: string,
  poolPorts: ReadonlyMap<string, number>,
  listenerPorts: ReadonlyMap<string, number>,
): GatewayRoute {
  const pool: PoolServer[] = s.pool!.map((m, i) => {
    const port = m.faultDef.layer === 'listener' ? listenerPorts.get(m.fault) : poolPorts.get(poolKey(s.id, i));
    if (port === undefined) throw new Error(`pool member ${i} (${m.fault}) of ${s.id} has no address`);
    return { target: { kind: 'tcp', host, port }, weight: m.weight, backup: m.backup };
  });
  return { ...base, target: pool[0]!.target, pool };
}

/**
 * A member that comes back: after its fault has been chosen for `recoverAfter` requests, its
 * upstream answers healthy. Switched in the request event, which the upstream emits as it
 * routes a request and before it reads the next one, so request N+1 is the first healthy one
 * whatever the timing. Returns the unsubscribe (nothing to undo once switched).
 */
export function recoverAfter(upstream: StartedUpstream, m: PoolUpstream): () => void {
  if (m.recoverAfter === undefined) return () => {};
  let seen = 0;
  const off = upstream.events.subscribe((e) => {
    if (e.type !== 'request' || ++seen < m.recoverAfter!) return;
    off();
    upstream.setRouting({ routes: [{ ...m.route, fault: 'healthy', params: {} }], defaultFault: 'healthy' });
  });
  return off;
}
