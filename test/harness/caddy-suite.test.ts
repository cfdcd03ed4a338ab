/**
 * The whole built-in suite through a real Caddy, as a process (Debian's caddy)
 * and in a container (the image scripts/build-gateway-image.sh caddy builds).
 * Expectations were established by running Caddy 2.6.2 (Go 1.19 and Go 1.24
 * builds) and 2.11.4 from Debian bookworm, trixie and sid; this proves they
 * still hold, and that a user's own Caddyfile is run and compared.
 */
import { describe, expect, test } from 'vitest';
import { gatewayById } from '../../src/gateways/index.js';
import { runSuite } from '../../src/harness/run.js';
import { changeFromBaseline } from '../../src/report/model.js';
import { findBinary } from '../../src/runtimes/process.js';
import { dockerImagePresent } from '../helpers/docker.js';
import { interruptMidRun } from '../helpers/interrupt.js';
import { builtinScenarios, failures, runBuiltin } from '../helpers/suite.js';
import { measuredImageTests } from '../helpers/measured.js';

const binary = await findBinary('caddy');

describe('built-in suite through Caddy', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: every expectation holds, DNS scenarios included', { timeout: 60_000 }, async () => {
    expect(binary, 'CI must provide caddy (apt-get install caddy)').toBeDefined();
    const r = await runBuiltin(['caddy'], 'process');
    const run = r.runs[0]!;
    // The Go toolchain is part of the version: it decides part of what Caddy does.
    expect(run.version).toMatch(/^2\.\d+\.\d+\+go1\.\d+(\.\d+)?$/);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    // Established on 2.6: every scenario is judged, none merely observed, none skipped (Caddy takes a resolver).
    expect(r.unchecked).toBe(0);
    expect(run.skipped).toEqual([]);
    expect(r.passed).toBe(run.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(49);
    // Error lines are JSON, attributed to their request by the uri they carry.
    const refused = run.cases.find((c) => c.scenario.id === 'connect-refused')!;
    expect(refused.observed.reasons).toEqual(['connect-refused']);
    expect(refused.logs.some((l) => /"logger":"http\.log\.error".*connection refused/.test(l.raw))).toBe(true);
    const nx = run.cases.find((c) => c.scenario.id === 'dns-nxdomain')!;
    expect(nx.logs.some((l) => /lookup dns-nxdomain\.nxdomain\.badgateway\.test/.test(l.raw))).toBe(true);
  });

  test.skipIf(binary === undefined && !process.env.CI)('a user Caddyfile: placeholders filled, our logging put first, and what its retry hides is reported', { timeout: 60_000 }, async () => {
    const { catalogue, scenarios: all } = await builtinScenarios();
    // The chaos upstream first; one failure marks it down (passive health) and the retry within
    // lb_try_duration goes to the healthy one. Caddy keeps that health state per upstream
    // address, shared by every request, so each fault gets its own run: one failing scenario
    // would otherwise send the other straight to the healthy upstream.
    const text = [
      '{',
      '\tgrace_period 1s',
      '}',
      '',
      'http://{{listen}} {',
      '\treverse_proxy {{upstream}} {{healthy}} {',
      '\t\tlb_policy first',
      '\t\tlb_try_duration 3s',
      '\t\tfail_duration 30s',
      '\t\tmax_fails 1',
      '\t\ttransport http {',
      '\t\t\tresponse_header_timeout 1s',
      '\t\t}',
      '\t}',
      '}',
      '',
    ].join('\n');
    const faults = [
      ['empty-reply', 'upstream-closed-early'],
      ['never-respond', 'read-timeout'],
    ] as const;
    const runs = await Promise.all(
      faults.map(([id]) =>
        runSuite({ scenarios: all.filter((s) => s.id === id || s.id === 'healthy'), gateways: [gatewayById('caddy')], catalogue, runtime: 'process', userConfig: { file: 'Caddyfile', text } }),
      ),
    );
    for (const [i, [id, reason]] of faults.entries()) {
      const cases = new Map(runs[i]!.runs[0]!.cases.map((c) => [c.scenario.id, c]));
      expect(cases.get('healthy')!.observed.status).toBe(200);
      // The failed first attempt is in the log, attributed; the client got the healthy answer.
      const c = cases.get(id)!;
      expect(c.observed.status, id).toBe(200);
      expect(changeFromBaseline(c)?.change, id).toBe('hidden');
      expect(c.observed.reasons, id).toContain(reason);
    }
  });

  test.skipIf(binary === undefined && !process.env.CI)('SIGINT mid-run, process runtime: no process, temp dir or file outside the prefix left', { timeout: 60_000 }, async () => {
    await interruptMidRun({ gateway: 'caddy', runtime: 'process', signal: 'SIGINT' });
  });

  const why = dockerImagePresent('badgateway/caddy:bookworm');
  test.skipIf(why !== undefined && !process.env.CI)('container runtime: every expectation holds', { timeout: 120_000 }, async () => {
    expect(why, 'CI must provide Docker and the locally built image (scripts/build-gateway-image.sh caddy)').toBeUndefined();
    const r = await runBuiltin(['caddy'], 'container', { image: 'badgateway/caddy:bookworm' });
    const run = r.runs[0]!;
    expect(run.runtime).toBe('container');
    // The Go toolchain is part of the version: it decides part of what Caddy does.
    expect(run.version).toMatch(/^2\.\d+\.\d+\+go1\.\d+(\.\d+)?$/);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(run.cases.length);
    const reset = run.cases.find((c) => c.scenario.id === 'reset-after-request')!;
    expect(reset.observed.reasons).toContain('upstream-reset');
  });

  test.skipIf(why !== undefined && !process.env.CI)('SIGTERM mid-run, container runtime: no container, temp dir or socket file left', { timeout: 90_000 }, async () => {
    expect(why).toBeUndefined();
    await interruptMidRun({ gateway: 'caddy', runtime: 'container', signal: 'SIGTERM', image: 'badgateway/caddy:bookworm' });
  });

  // Every other version the expectations were measured on (Debian trixie's and sid's images).
  measuredImageTests('caddy');
});
