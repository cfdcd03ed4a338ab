/** A scenario built by hand for pure tests of reporters and judging: built-in fault, GET /, no expectation. */
import { Catalogue } from '../../src/faults/registry.js';
import type { Scenario } from '../../src/scenarios/scenario.js';

const catalogue = new Catalogue();

export function scenarioFixture(id: string, extra: Partial<Scenario> = {}): Scenario {
  const fault = extra.fault ?? id;
  return {
    id,
    file: `scenarios/${id}.yaml`,
    description: `what ${id} does to a gateway, and why it answers as it does`,
    fault,
    faultDef: catalogue.get(fault),
    params: {},
    upstream: 'tcp',
    keepalive: false,
    request: { method: 'GET', path: '/', headers: [], websocket: false, timeoutMs: 5000 },
    expect: {},
    tags: [],
    ...extra,
  };
}
