/**
 * The whole built-in suite through a real nginx, in both runtimes. Expectations
 * were established by running nginx; this proves they still hold.
 */
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { runSuite, type SuiteResult } from '../../src/harness/run.js';
import { failureDetail } from '../../src/report/console.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';
import { satisfies } from '../../src/scenarios/scenario.js';
import { dockerImagePresent } from '../helpers/docker.js';

async function suite(runtime: 'process' | 'container'): Promise<SuiteResult> {
  const catalogue = new Catalogue();
  const scenarios = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  return runSuite({ scenarios, gateways: [gatewayById('nginx')], catalogue, runtime });
}

function failures(r: SuiteResult): string {
  return r.runs.flatMap((run) => run.cases.filter((c) => c.verdict && !c.verdict.pass).map((c) => `${c.scenario.id}\n${failureDetail(c, false)}`)).join('\n\n');
}

describe('built-in suite through nginx', () => {
  test('process runtime: every expectation holds', { timeout: 60_000 }, async () => {
    const r = await suite('process');
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    // On the nginx the suite was established on (1.22), every scenario is judged, none merely observed.
    if (satisfies(r.runs[0]!.version ?? '0', '<1.23')) expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(r.runs[0]!.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(45);
  });

  const why = dockerImagePresent('badgateway/nginx:bookworm');
  test.skipIf(why !== undefined && !process.env.CI)('container runtime: every expectation holds', { timeout: 120_000 }, async () => {
    expect(why, 'CI must provide Docker and the locally built image').toBeUndefined();
    const r = await suite('container');
    expect(r.runs[0]!.runtime).toBe('container');
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    expect(r.passed).toBe(r.runs[0]!.cases.length);
  });
});
