/**
 * The whole built-in suite through a real Apache httpd, as a process and in a
 * container (Debian's apache2, the image scripts/build-gateway-image.sh apache
 * builds). Expectations were established by running Apache 2.4 on Debian
 * bookworm, trixie and sid; this proves they still hold. DNS scenarios are skipped: httpd has no
 * resolver of its own to point at badgateway's DNS responder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findBinary } from '../../src/runtimes/process.js';
import { RUN_LABEL } from '../../src/runtimes/container.js';
import { startCli } from '../helpers/cli.js';
import { containersLabelled, dockerImagePresent } from '../helpers/docker.js';
import { interruptMidRun, leftIn } from '../helpers/interrupt.js';
import { failures, runBuiltin } from '../helpers/suite.js';
import { measuredImageTests } from '../helpers/measured.js';

const binary = await findBinary('apache2');

describe('built-in suite through Apache httpd', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: every expectation holds', { timeout: 60_000 }, async () => {
    expect(binary, 'CI must provide apache2 (apt-get install apache2)').toBeDefined();
    const r = await runBuiltin(['apache'], 'process');
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

  const why = dockerImagePresent('badgateway/apache:bookworm');
  test.skipIf(why !== undefined && !process.env.CI)('container runtime: every expectation holds', { timeout: 120_000 }, async () => {
    expect(why, 'CI must provide Docker and the locally built image (scripts/build-gateway-image.sh apache)').toBeUndefined();
    const r = await runBuiltin(['apache'], 'container');
    const run = r.runs[0]!;
    expect(run.runtime).toBe('container');
    expect(run.version).toMatch(/^2\.4\.\d+$/);
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(run.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(40);
    for (const s of run.skipped) expect(s.why).toMatch(/system resolver only|through the host.s gateways \(process runtime\) only/);
    // Error lines reached the harness through the prefix and were attributed to their request.
    const reset = run.cases.find((c) => c.scenario.id === 'reset-after-request')!;
    expect(reset.observed.reasons).toContain('upstream-reset');
  });

  test.skipIf(why !== undefined && !process.env.CI)('SIGTERM mid-run, container runtime: no container, temp dir or socket file left', { timeout: 90_000 }, async () => {
    expect(why).toBeUndefined();
    await interruptMidRun({ gateway: 'apache', runtime: 'container', signal: 'SIGTERM' });
  });

  // Not a gateway image: since one image per Debian release holds every gateway, those all have apache2.
  const wrong = 'badgateway/node:bookworm';
  const wrongImage = dockerImagePresent(wrong);
  test.skipIf(wrongImage !== undefined && !process.env.CI)('an image of another layout (no apache2 on its PATH): exit 2, says what the image needs, leaves no container', { timeout: 60_000 }, async () => {
    expect(wrongImage, `CI must provide Docker and the locally built image ${wrong} (scripts/build-node-image.sh): this test runs Apache from it as the wrong image`).toBeUndefined();
    const tmp = await mkdtemp(join(tmpdir(), 'badgateway-test-apache-'));
    try {
      const cli = startCli(['run', '--gateway', 'apache', '--runtime', 'container', '--image', wrong, '--only', 'healthy'], { TMPDIR: tmp });
      const r = await cli.done;
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/could not start apache from image badgateway\/node:bookworm: .*"apache2": executable file not found.* The image must have apache2 on its PATH; badgateway\/apache:bookworm/);
      expect(containersLabelled(`${RUN_LABEL}=${cli.child.pid}`)).toEqual([]);
      expect(await leftIn(tmp)).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  // Every other version the expectations were measured on (Debian trixie's and sid's images).
  measuredImageTests('apache');
});
