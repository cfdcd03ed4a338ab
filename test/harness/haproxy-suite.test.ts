/**
 * The whole built-in suite through a real HAProxy (process runtime), and
 * nginx and HAProxy at once. Expectations were established by running
 * HAProxy 2.6 on Debian bookworm; this proves they still hold. The container
 * runtime uses the image scripts/build-gateway-image.sh haproxy builds.
 */
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { runSuite, type SuiteResult } from '../../src/harness/run.js';
import { failureDetail } from '../../src/report/console.js';
import { findBinary } from '../../src/runtimes/process.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';
import { satisfies } from '../../src/scenarios/scenario.js';
import { dockerImagePresent } from '../helpers/docker.js';

async function suite(gateways: readonly string[], runtime: 'process' | 'container' = 'process'): Promise<SuiteResult> {
  const catalogue = new Catalogue();
  const scenarios = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  return runSuite({ scenarios, gateways: gateways.map(gatewayById), catalogue, runtime });
}

function failures(r: SuiteResult): string {
  return r.runs.flatMap((run) => run.cases.filter((c) => c.verdict && !c.verdict.pass).map((c) => `${run.gateway} ${c.scenario.id}\n${failureDetail(c, false)}`)).join('\n\n');
}

const binary = await findBinary('haproxy');

describe('built-in suite through HAProxy', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: every expectation holds', { timeout: 60_000 }, async () => {
    expect(binary, 'CI must provide haproxy (apt-get install haproxy)').toBeDefined();
    const r = await suite(['haproxy']);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    const run = r.runs[0]!;
    expect(run.runtime).toBe('process');
    // On the HAProxy the suite was established on (2.6), every scenario is judged, none merely observed.
    if (satisfies(run.version ?? '0', '>=2.6 <2.7')) expect(r.unchecked).toBe(0);
    expect(run.skipped).toEqual([]);
    expect(r.passed).toBeGreaterThanOrEqual(45);
    // The log lines were attributed: a connect failure is judged by its reason, not only its status.
    const refused = run.cases.find((c) => c.scenario.id === 'connect-refused')!;
    expect(refused.observed.reasons).toContain('connect-refused');
    expect(refused.logs[0]!.raw).toMatch(/ SC-- /);
  });

  test.skipIf(binary === undefined && !process.env.CI)('nginx and HAProxy in one run: every expectation holds for both', { timeout: 60_000 }, async () => {
    const r = await suite(['nginx', 'haproxy']);
    expect(r.runs.map((x) => x.gateway)).toEqual(['nginx', 'haproxy']);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
  });

  const why = dockerImagePresent('badgateway/haproxy:bookworm');
  // Known gap: HAProxy logs to stdout, which reaches the harness through Docker's log
  // stream, and now and then a request's line is missing from it (seen a few times in
  // ten runs). Until HAProxy logs to a socket the harness owns, this checks what the
  // client saw in the container runtime (status, body, time) and leaves reasons to the
  // process-runtime test above, which checks every field.
  test.skipIf(why !== undefined && !process.env.CI)('container runtime: what the client sees holds for every scenario', { timeout: 120_000 }, async () => {
    expect(why, 'CI must provide Docker and the locally built image (scripts/build-gateway-image.sh haproxy)').toBeUndefined();
    const r = await suite(['haproxy'], 'container');
    expect(r.runs[0]!.runtime).toBe('container');
    const clientSide = r.runs[0]!.cases.flatMap((c) => (c.verdict?.mismatches ?? []).filter((m) => m.field !== 'reason').map((m) => `${c.scenario.id}: ${m.field} expected ${m.expected}, observed ${m.observed}`));
    expect(clientSide).toEqual([]);
    expect(r.runs[0]!.cases.every((c) => c.verdict !== undefined)).toBe(true);
  });
});
