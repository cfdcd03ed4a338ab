/**
 * The security verdict through a real nginx: with its default config (proxy_ssl_verify off)
 * the expired and wrong-name certificates reach the client and each case carries a finding;
 * with proxy_ssl_verify on (tlsVerify: on) nginx refuses them, and there is none.
 */
import { describe, expect, test } from 'vitest';
import { exitStatus, securityCases } from '../../src/report/model.js';
import { failures, runBuiltin } from '../helpers/suite.js';

describe('security findings through nginx', () => {
  test('default config: a finding for the expired and the wrong-name certificate; verify on: none', { timeout: 60_000 }, async () => {
    const only = ['tls-expired', 'tls-wrong-name', 'tls-expired-verify-on', 'tls-wrong-name-verify-on'];
    const r = await runBuiltin(['nginx'], 'process', { only });
    expect(failures(r)).toBe('');
    expect(r.runs[0]!.cases.map((c) => c.scenario.id).sort()).toEqual([...only].sort());
    const found = securityCases(r);
    expect(found.map((c) => c.scenario.id).sort()).toEqual(['tls-expired', 'tls-wrong-name']);
    expect(found.find((c) => c.scenario.id === 'tls-expired')!.security!.message).toBe("nginx's default config accepts an expired upstream certificate (proxy_ssl_verify is off by default)");
    expect(found.every((c) => c.outcomes[0]!.status === 200)).toBe(true);
    // With proxy_ssl_verify on nginx refuses both (502) and says why.
    const on = r.runs[0]!.cases.filter((c) => c.scenario.id.endsWith('-verify-on'));
    expect(on.map((c) => [c.observed.status, c.observed.reasons.join()]).sort()).toEqual([[502, 'tls-cert-expired'], [502, 'tls-name-mismatch']]);
    expect(exitStatus(r)).toBe(3);
    expect(exitStatus({ ...r, runs: [{ ...r.runs[0]!, cases: on }] })).toBe(0);
  });
});
