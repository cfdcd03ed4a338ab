/**
 * The whole built-in suite through Envoy and Traefik in containers, from their
 * official images. They run whenever the image is present locally (a Docker
 * engine that has `envoyproxy/envoy:v1.39-latest` / `traefik:v3.7`, or the image
 * named by BADGATEWAY_ENVOY_IMAGE / BADGATEWAY_TRAEFIK_IMAGE), and say why they
 * are skipped otherwise. Neither gateway is packaged by Debian or npm, and the
 * images cannot be built without a registry, so CI without one skips them too.
 *
 * No expectation was measured on either gateway yet: a run reports every case
 * as observed ("no expectation measured for envoy"), and what is checked here
 * is what the adapters promise: the gateway starts and routes, nothing is
 * judged that was not measured, unsupported scenarios are skipped with their
 * reason, and log lines are attributed to their request.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import type { GatewayAdapter } from '../../src/gateways/gateway.js';
import { gatewayById } from '../../src/gateways/index.js';
import type { SuiteResult } from '../../src/harness/run.js';
import { resolveRuntime } from '../../src/runtimes/index.js';
import { findBinary } from '../../src/runtimes/process.js';
import { failures, runBuiltin } from '../helpers/suite.js';

function imageFor(adapter: GatewayAdapter): string {
  return process.env[`BADGATEWAY_${adapter.id.toUpperCase()}_IMAGE`] ?? adapter.defaultImage;
}

/** Why the container test cannot run here, or undefined when it can. */
function unavailable(adapter: GatewayAdapter): string | undefined {
  const image = imageFor(adapter);
  const how = `Get it onto this Docker engine with \`docker pull ${adapter.defaultImage}\` (or \`docker load\` an image saved elsewhere) and set BADGATEWAY_${adapter.id.toUpperCase()}_IMAGE to its name if it differs; \`badgateway run --gateway ${adapter.id} --runtime container --image <image>\` runs it by hand`;
  try {
    execFileSync('docker', ['version'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return `no Docker engine answers, so the ${adapter.id} container test cannot run (${adapter.id} has no Debian or npm package for the process runtime). ${how}.`;
  }
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 10_000 });
    return undefined;
  } catch {
    return `image ${image} is not present locally and no registry is used by the tests. ${how}.`;
  }
}

/** Checks every gateway without measured expectations shares. */
function checkUnmeasuredRun(r: SuiteResult, id: string): void {
  const run = r.runs[0]!;
  expect(run.runtime).toBe('container');
  expect(run.version).toMatch(/^\d+\.\d+\.\d+$/);
  // Nothing was measured, so nothing is judged (should an expectation be added, it must hold).
  expect(failures(r)).toBe('');
  for (const c of run.cases) if (!c.verdict) expect(c.unjudged).toMatch(new RegExp(`^no expectation measured for ${id}`));
  // The gateway routed: a healthy upstream answers through it.
  const healthy = run.cases.find((c) => c.scenario.id === 'healthy')!;
  expect(healthy.observed.status).toBe(200);
  expect(healthy.observed.body).toBe('complete');
  // Every request got an outcome.
  for (const c of run.cases) expect(c.outcomes.length).toBeGreaterThan(0);
}

describe('built-in suite through Envoy (container)', () => {
  const envoy = gatewayById('envoy');
  test('starts from the official image, routes every scenario, judges nothing unmeasured, attributes its access log', { timeout: 180_000 }, async (ctx) => {
    const why = unavailable(envoy);
    if (why) ctx.skip(why);
    const r = await runBuiltin(['envoy'], 'container', { image: imageFor(envoy) });
    checkUnmeasuredRun(r, 'envoy');
    const run = r.runs[0]!;
    // Envoy takes a resolver and unix sockets: no scenario is skipped but the pools (no cluster of
    // several endpoints is rendered) and the FastCGI ones (no FastCGI filter is rendered).
    for (const s of run.skipped) expect(s.why).toBe(s.scenario.pool ? 'envoy has no upstream pools in badgateway' : 'envoy has no FastCGI upstream in badgateway');
    expect(run.cases.find((c) => c.scenario.id === 'healthy-unix-socket')!.observed.status).toBe(200);
    expect(run.cases.find((c) => c.scenario.id === 'healthy-by-dns-name')!.observed.status).toBe(200);
    // A refused connect: Envoy answers 503 with flag UF, and its access-log line names the request.
    const refused = run.cases.find((c) => c.scenario.id === 'connect-refused')!;
    expect(refused.observed.status).toBe(503);
    expect(refused.observed.reasons).toEqual(['connect-refused']);
    expect(refused.logs.some((l) => / 503 UF /.test(l.raw) && /bgp=\d+/.test(l.raw))).toBe(true);
    // An upstream that never answers: the per-try idle timeout, flag UT.
    const never = run.cases.find((c) => c.scenario.id === 'never-respond')!;
    expect(never.observed.status).toBe(504);
    expect(never.observed.reasons).toEqual(['read-timeout']);
  });
});

describe('built-in suite through Traefik (container)', () => {
  const traefik = gatewayById('traefik');
  test('starts from the official image, skips what it cannot do with the reason, judges nothing unmeasured', { timeout: 180_000 }, async (ctx) => {
    const why = unavailable(traefik);
    if (why) ctx.skip(why);
    const r = await runBuiltin(['traefik'], 'container', { image: imageFor(traefik) });
    checkUnmeasuredRun(r, 'traefik');
    const run = r.runs[0]!;
    // System resolver only, TCP upstreams only: those scenarios are skipped and say why.
    const skipped = Object.fromEntries(run.skipped.map((s) => [s.scenario.id, s.why]));
    expect(skipped['healthy-unix-socket']).toMatch(/cannot reach an upstream over a unix socket/);
    expect(skipped['dns-nxdomain']).toMatch(/system resolver only/);
    expect(skipped['healthy-by-dns-name']).toMatch(/system resolver only/);
    expect(run.cases.some((c) => c.scenario.upstream === 'unix' || c.scenario.upstream === 'dns')).toBe(false);
    // A refused connect: 502, and the dial error is attributed through the listener's own address.
    const refused = run.cases.find((c) => c.scenario.id === 'connect-refused')!;
    expect(refused.observed.status).toBe(502);
    expect(refused.observed.reasons).toEqual(['connect-refused']);
    // No response head within responseHeaderTimeout: 504.
    expect(run.cases.find((c) => c.scenario.id === 'never-respond')!.observed.status).toBe(504);
  });
});

describe('the process runtime without the binary', () => {
  test.each(['envoy', 'traefik'])('%s: says it is not on PATH, not packaged, and to use --runtime container', async (id) => {
    const adapter = gatewayById(id);
    if (await findBinary(adapter.binary)) return; // installed here: nothing to say
    await expect(resolveRuntime('process', adapter)).rejects.toThrow(new RegExp(`${id} is not on PATH\\. Install it \\(Debian and npm do not package it.*\\) or use --runtime container`));
  });
});
