/**
 * The built-in suite against the registries: every built-in fault has a scenario, and every
 * reason a scenario expects from a gateway is one that gateway's adapter reports. (Loading the
 * suite already rejects reasons outside the shared vocabulary.)
 */
import { describe, expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';

const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));

describe('the built-in suite (scenarios/)', () => {
  test('every built-in fault has a scenario that uses it', () => {
    const used = new Set(scenarios.map((s) => s.fault));
    const without = BUILTIN_FAULTS.map((f) => f.id).filter((id) => !used.has(id));
    expect(without, 'built-in faults with no scenario in scenarios/: add one (a fault without a scenario is never run through a gateway)').toEqual([]);
  });

  test("every reason a scenario expects from a gateway is one that gateway's adapter documents", () => {
    const problems: string[] = [];
    for (const s of scenarios) {
      for (const [key, exp] of Object.entries(s.expect)) {
        if (exp.reason === undefined) continue;
        const g = gatewayById(key.split('@')[0]!);
        const known = new Set<string>(g.reasons.map((r) => r.reason));
        for (const r of typeof exp.reason === 'string' ? [exp.reason] : exp.reason) {
          if (r !== 'none' && !known.has(r)) problems.push(`${s.id}: ${key} expects ${r}, which the ${g.id} adapter never reports`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
