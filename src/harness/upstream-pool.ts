/**
 * Pools (`upstreams:`): where each server of a pool scenario lives. An exchange member gets a
 * chaos upstream of its own (its own port, so the gateway sees distinct servers and a member's
 * fault never answers another member's request); a listener member is its listener fault's port.
 * Pure: execute.ts starts the upstreams this asks for.
 */
import type { GatewayRoute, PoolServer } from '../gateways/gateway.js';
import { routePath } from '../gateways/paths.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { RouteSpec } from '../upstream/upstream.js';

/** One exchange member that needs an upstream of its own. */
export interface PoolUpstream {
  /** `<scenario id>#<member index>`: the key of its port in ChaosAddresses.poolPorts. */
  readonly key: string;
  /** The member's fault under the scenario's path, the only route of its upstream. */
  readonly route: RouteSpec;
}

export function poolKey(scenarioId: string, member: number): string {
  return `${scenarioId}#${member}`;
}

/** The upstreams the pool scenarios of a run need: one per exchange member. */
export function poolUpstreams(scenarios: readonly Scenario[]): PoolUpstream[] {
  return scenarios.flatMap((s) =>
    (s.pool ?? []).flatMap((m, i) =>
      m.faultDef.layer === 'exchange' ? [{ key: poolKey(s.id, i), route: { pathPrefix: routePath(s.id).slice(0, -1), fault: m.fault, params: m.params } }] : [],
    ),
  );
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
