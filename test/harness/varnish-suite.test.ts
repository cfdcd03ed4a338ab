/**
 * Scenarios through a real Varnish: as a process (Debian's varnish package: 7.1 on bookworm)
 * and in a container (badgateway/varnish:trixie, Varnish 7.7, built by
 * scripts/build-gateway-image.sh varnish --release trixie). Its log is the shared-memory log,
 * dumped with varnishlog under the run's prefix; these tests prove its FetchError records reach
 * the request they belong to. DNS scenarios are skipped: Varnish resolves a backend's host when
 * its VCL is compiled.
 */
import { describe, expect, test } from 'vitest';
import { StartError } from '../../src/errors.js';
import { gatewayById } from '../../src/gateways/index.js';
import { makePrefix } from '../../src/runtimes/files.js';
import { findBinary, processRuntime } from '../../src/runtimes/process.js';
import { dockerImagePresent } from '../helpers/docker.js';
import { expectedSkipReason, failures, runBuiltin } from '../helpers/suite.js';

const varnish = gatewayById('varnish');
const binary = await findBinary('varnishd');

/** The scenarios Varnish cannot run: every one that reaches the upstream by a DNS name. */

describe('scenarios through Varnish', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: the whole built-in suite, every case judged and holding, FetchError records attributed', { timeout: 120_000 }, async () => {
    expect(binary, 'CI must provide varnishd (apt-get install varnish)').toBeDefined();
    const r = await runBuiltin(['varnish'], 'process');
    const run = r.runs[0]!;
    expect(run.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(run.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(40);
    expect(run.skipped.map((s) => s.scenario.id)).toContain('dns-nxdomain');
    // Varnish's backends are one address each (no director rendered) and speak HTTP only: pools and
    // FastCGI scenarios are skipped too, each with its own reason, and nothing else is.
    for (const s of run.skipped) expect(s.why, s.scenario.id).toMatch(expectedSkipReason('varnish', s.scenario));
    const byId = (id: string) => run.cases.find((c) => c.scenario.id === id)!;
    // Varnish's own answer to a failed fetch, and the FetchError that says why.
    const refused = byId('connect-refused');
    expect(refused.observed.status).toBe(503);
    expect(refused.outcomes[0]!.kind === 'response' && refused.outcomes[0]!.head).toMatch(/^HTTP\/1\.1 503 Backend fetch failed\r\n/);
    expect(refused.observed.reasons).toEqual(['connect-refused']);
    expect(refused.logs.some((l) => /FetchError +b backend \S+: fail errno 111 \(Connection refused\)/.test(l.raw))).toBe(true);
    expect(byId('never-respond').observed.reasons).toEqual(['read-timeout']);
    expect(byId('healthy').observed.reasons).toEqual([]);
  });

  const image = 'badgateway/varnish:trixie';
  const why = dockerImagePresent(image);
  test(`container runtime (${image}): the whole built-in suite, every case judged and holding`, { timeout: 120_000 }, async (ctx) => {
    if (why !== undefined) {
      expect(process.env.CI, `CI must provide Docker and ${image} (scripts/build-gateway-image.sh all --release trixie)`).toBeFalsy();
      ctx.skip(`${image} is missing: build it with scripts/build-gateway-image.sh varnish --release trixie (${why})`);
    }
    const r = await runBuiltin(['varnish'], 'container', { image });
    const run = r.runs[0]!;
    expect(run.runtime).toBe('container');
    expect(run.source).toBe(image);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(run.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(40);
    // varnishlog ran inside the container, on the working directory under the bind-mounted prefix.
    expect(run.cases.find((c) => c.scenario.id === 'empty-reply')!.observed.reasons).toEqual(['upstream-closed-early']);
  });
});

describe('the process runtime without Varnish\'s binaries', () => {
  test('no varnishd: says it is not on PATH and how to install it', async () => {
    const adapter = { ...varnish, binary: 'varnishd-not-installed' };
    await expect(processRuntime.available(adapter)).resolves.toMatchObject({ ok: false, why: expect.stringMatching(/varnishd-not-installed is not on PATH\. Install it \(apt-get install varnish.*\) or use --runtime container/) });
  });

  test.skipIf(binary === undefined)('no varnishlog: refuses to start (its log could not be read) with BG_GATEWAY_MISSING, and removes the prefix', async () => {
    const adapter = { ...varnish, logDump: { ...varnish.logDump!, binary: 'varnishlog-not-installed' } };
    const prefix = await makePrefix('varnish');
    const config = adapter.render({ listen: { host: '127.0.0.1', port: 1 }, prefix, routes: [], timeouts: { connectMs: 1000, readMs: 1000, sendMs: 1000, resolverMs: 1000 } });
    const err = await processRuntime.start({ adapter, config, prefix, listen: { host: '127.0.0.1', port: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).code).toBe('BG_GATEWAY_MISSING');
    expect((err as StartError).message).toMatch(/varnishlog-not-installed \(which reads varnish's log\) is not on PATH\. Install it \(apt-get install varnish/);
    expect(await import('node:fs').then((fs) => fs.existsSync(prefix))).toBe(false);
  });
});
