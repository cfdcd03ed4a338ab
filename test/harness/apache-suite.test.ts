/**
 * The whole built-in suite through a real Apache httpd (process runtime).
 * Expectations were established by running Apache 2.4 on Debian bookworm; this
 * proves they still hold. DNS scenarios are skipped: httpd has no resolver of
 * its own to point at badgateway's DNS responder.
 */
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { runSuite, type SuiteResult } from '../../src/harness/run.js';
import { failureDetail } from '../../src/report/console.js';
import { findBinary } from '../../src/runtimes/process.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';

async function suite(): Promise<SuiteResult> {
  const catalogue = new Catalogue();
  const scenarios = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  return runSuite({ scenarios, gateways: [gatewayById('apache')], catalogue, runtime: 'process' });
}

function failures(r: SuiteResult): string {
  return r.runs.flatMap((run) => run.cases.filter((c) => c.verdict && !c.verdict.pass).map((c) => `${c.scenario.id}\n${failureDetail(c, false)}`)).join('\n\n');
}

const binary = await findBinary('apache2');

describe('built-in suite through Apache httpd', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: every expectation holds', { timeout: 60_000 }, async () => {
    expect(binary, 'CI must provide apache2 (apt-get install apache2)').toBeDefined();
    const r = await suite();
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    // Established on 2.4: every scenario that ran is judged, none merely observed.
    expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(r.runs[0]!.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(40);
    // Every DNS scenario is skipped, with the reason.
    expect(r.runs[0]!.skipped.length).toBeGreaterThanOrEqual(8);
    for (const s of r.runs[0]!.skipped) expect(s.why).toMatch(/system resolver only/);
  });
});
