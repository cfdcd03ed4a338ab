/**
 * The whole built-in suite through a real HAProxy (process runtime), and
 * nginx and HAProxy at once, and in a container. Expectations were established
 * by running HAProxy 2.6, 3.0 and 3.2 (Debian bookworm, trixie and sid); this
 * proves they still hold. The container runtime uses the images
 * scripts/build-gateway-image.sh haproxy [--release ...] builds.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { HAPROXY_LOG_FORMAT } from '../../src/gateways/haproxy.js';
import { gatewayById } from '../../src/gateways/index.js';
import { runSuite } from '../../src/harness/run.js';
import { findBinary } from '../../src/runtimes/process.js';
import { satisfies } from '../../src/scenarios/scenario.js';
import { dockerImagePresent } from '../helpers/docker.js';
import { processesNaming } from '../helpers/interrupt.js';
import { builtinScenarios, failures, runBuiltin } from '../helpers/suite.js';
import { measuredImageTests } from '../helpers/measured.js';

const binary = await findBinary('haproxy');

describe('built-in suite through HAProxy', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: every expectation holds', { timeout: 60_000 }, async () => {
    expect(binary, 'CI must provide haproxy (apt-get install haproxy)').toBeDefined();
    const r = await runBuiltin(['haproxy'], 'process');
    expect(failures(r, { gateway: true })).toBe('');
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
    const r = await runBuiltin(['nginx', 'haproxy'], 'process');
    expect(r.runs.map((x) => x.gateway)).toEqual(['nginx', 'haproxy']);
    expect(failures(r, { gateway: true })).toBe('');
    expect(r.failed).toBe(0);
  });

  const why = dockerImagePresent('badgateway/haproxy:bookworm');
  // HAProxy logs over UDP to a syslog socket the harness owns (not stdout, which in a
  // container reaches us through Docker's log stream and now and then loses a line), so
  // the container runtime is judged on every field, reasons included, like the process one.
  test.skipIf(why !== undefined && !process.env.CI)('container runtime: every expectation holds', { timeout: 120_000 }, async () => {
    expect(why, 'CI must provide Docker and the locally built image (scripts/build-gateway-image.sh haproxy)').toBeUndefined();
    const r = await runBuiltin(['haproxy'], 'container');
    const run = r.runs[0]!;
    expect(run.runtime).toBe('container');
    expect(failures(r, { gateway: true })).toBe('');
    expect(r.failed).toBe(0);
    if (satisfies(run.version ?? '0', '>=2.6 <2.7')) expect(r.unchecked).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(45);
    // Every request ended in a log line that was attributed to it, but where the gateway died of it
    // (HAProxy 2.6.12 on fcgi-huge-header and fcgi-stderr-flood: SIGSEGV before any log line), and
    // where HAProxy 2.6 resets a gRPC call's stream (REFUSED_STREAM) after its HTTP/2 backend failed
    // before any response: it logs no line for those (scenarios/grpc-over-*.yaml, measured).
    const unlogged = (c: (typeof run.cases)[number]) => satisfies(run.version ?? '0', '<3.0') && c.scenario.id.startsWith('grpc-over-') && c.observed.status === 'no-response';
    for (const c of run.cases.filter((x) => x.observed.crash === undefined && !unlogged(x))) expect(c.logs.filter((l) => l.target !== undefined).length, c.scenario.id).toBe(c.outcomes.length);
    const refused = run.cases.find((c) => c.scenario.id === 'connect-refused')!;
    expect(refused.observed.reasons).toContain('connect-refused');
    expect(refused.logs[0]!.raw).toMatch(/^badgateway .* SC-- /);
  });

  test.skipIf(binary === undefined && !process.env.CI)('a user config: its proxies log to the same socket with `log global`', { timeout: 60_000 }, async () => {
    const text = [
      'defaults',
      '  mode http',
      '  log global',
      `  log-format "${HAPROXY_LOG_FORMAT}"`,
      '  timeout connect 1s',
      '  timeout server 1s',
      '  timeout client 5s',
      'frontend f',
      '  bind {{listen}}',
      '  default_backend b',
      'backend b',
      '  server s1 {{upstream}}',
      '',
    ].join('\n');
    const r = await runBuiltin(['haproxy'], 'process', { only: ['healthy', 'empty-reply', 'never-respond'], userConfig: { file: 'user.cfg', text } });
    const cases = new Map(r.runs[0]!.cases.map((c) => [c.scenario.id, c]));
    expect(cases.get('healthy')!.observed.status).toBe(200);
    expect(cases.get('healthy')!.logs).toHaveLength(1);
    expect(cases.get('empty-reply')!.observed.reasons).toEqual(['upstream-closed-early']);
    expect(cases.get('never-respond')!.observed.reasons).toEqual(['read-timeout']);
  });

  test.skipIf(binary === undefined && !process.env.CI)('an aborted run closes the log socket and leaves no prefix, socket file or HAProxy', { timeout: 60_000 }, async () => {
    const udp = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'UDPSocketWrap').length;
    const before = udp();
    // A private TMPDIR: every prefix, run dir and socket file the run makes lands here.
    const tmp = await mkdtemp(join(tmpdir(), 'badgateway-test-haproxy-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const { catalogue, scenarios } = await builtinScenarios(['healthy', 'never-respond', 'dns-ok', 'healthy-unix-socket']);
      const ac = new AbortController();
      let sawSocket = 0;
      const run = runSuite({
        scenarios,
        gateways: [gatewayById('haproxy')],
        catalogue,
        runtime: 'process',
        signal: ac.signal,
        progress: {
          onProbed: ({ scenario }) => {
            if (scenario.id !== 'healthy') return;
            sawSocket = udp();
            ac.abort();
          },
        },
      });
      await expect(run).rejects.toThrow();
      // The log socket (and the DNS responder's) were open mid-run, and are closed now.
      expect(sawSocket).toBeGreaterThan(before);
      expect(udp()).toBe(before);
      expect(await readdir(tmp)).toEqual([]);
      expect(processesNaming(tmp)).toBe('');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(tmp, { recursive: true, force: true });
    }
  });

  // Every other version the expectations were measured on (Debian trixie's and sid's images).
  measuredImageTests('haproxy');
});
