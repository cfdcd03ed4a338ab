/**
 * The whole built-in suite through a real nginx, in both runtimes, and through
 * every version its expectations were measured on (Debian bookworm's, trixie's
 * and sid's images); this proves they still hold.
 */
import { describe, expect, test } from 'vitest';
import { satisfies } from '../../src/scenarios/scenario.js';
import { dockerImagePresent } from '../helpers/docker.js';
import { failures, runBuiltin } from '../helpers/suite.js';
import { measuredImageTests } from '../helpers/measured.js';

describe('built-in suite through nginx', () => {
  test('process runtime: every expectation holds', { timeout: 60_000 }, async () => {
    const r = await runBuiltin(['nginx'], 'process');
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
    const r = await runBuiltin(['nginx'], 'container');
    expect(r.runs[0]!.runtime).toBe('container');
    expect(failures(r)).toBe('');
    expect(r.failed).toBe(0);
    expect(r.passed).toBe(r.runs[0]!.cases.length);
  });

  // Every other version the expectations were measured on (Debian trixie's and sid's images).
  measuredImageTests('nginx');
});
