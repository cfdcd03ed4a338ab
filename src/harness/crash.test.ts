/**
 * "gateway crashed" as an outcome: how it is judged against `gateway: crashes` and against an
 * ordinary expectation, how it reads, and how a scenario file says it.
 */
import { describe, expect, test } from 'vitest';
import { scenarioFixture } from '../../test/helpers/scenario.js';
import { InputError } from '../errors.js';
import { Catalogue } from '../faults/registry.js';
import { GATEWAYS } from '../gateways/index.js';
import type { Outcome } from '../probe/http-probe.js';
import { scenarioFromYaml } from '../scenarios/load.js';
import { parseYaml } from '../yaml-source.js';
import { crashCause, crashHow, crashText, type GatewayCrash } from './crash.js';
import { evaluate, mismatchText, NOT_CRASHED, observe } from './evaluate.js';
import { judgeCase } from './judge.js';

const reset: Outcome = { kind: 'reset', body: 'none', bodyBytes: 0, end: 'reset', durationMs: 4, bytes: 0, preview: '' } as Outcome;
const ok: Outcome = { kind: 'response', status: 200, body: 'complete', bodyBytes: 5, end: 'complete', durationMs: 3, bytes: 80, preview: 'HTTP/1.1 200 OK' } as Outcome;

const segv: GatewayCrash = {
  signal: 'SIGSEGV',
  code: null,
  lastLogLines: ['', 'FATAL: bug condition "c_empty(ic)" matched at src/stconn.c:1479', '  call trace(12):', '  | 0x5555f83611dd [c6 04 25 01 00 00 00 00]: main-0x21c3'],
};

describe('judging a crash', () => {
  test('a crash where `gateway: crashes` is expected passes, whatever the client saw', () => {
    const v = evaluate(observe([reset], [], segv), { gateway: 'crashes', status: 502 });
    expect(v).toEqual({ pass: true, mismatches: [] });
  });

  test('a crash anywhere else fails, with the crash as the reason (not the status it caused)', () => {
    const v = evaluate(observe([reset], [], segv), { status: 502, body: 'complete', reason: 'upstream-closed-early' });
    expect(v.pass).toBe(false);
    expect(v.mismatches).toEqual([{ field: 'gateway', expected: 'running', observed: 'crashed (signal SIGSEGV)', message: 'the gateway crashed (signal SIGSEGV) during this scenario' }]);
  });

  test('`gateway: crashes` where it did not crash fails, and says an upgrade may have fixed it', () => {
    const v = evaluate(observe([ok], []), { gateway: 'crashes' });
    expect(v.pass).toBe(false);
    expect(v.mismatches.map(mismatchText)).toEqual([NOT_CRASHED]);
    expect(NOT_CRASHED).toBe('expected the gateway to crash; it did not — an upgrade may have fixed it');
  });

  test('no crash and no `gateway:` key: judged as before', () => {
    expect(evaluate(observe([ok], []), { status: 200 })).toEqual({ pass: true, mismatches: [] });
    expect(observe([ok], []).crash).toBeUndefined();
  });

  test('judgeCase carries the run\'s crash into what was observed', () => {
    const s = scenarioFixture('healthy', { expect: { haproxy: { gateway: 'crashes' } } });
    const c = judgeCase({ scenario: s, numbers: [7], outcomes: [reset], durationMs: 4, crash: segv }, new Map(), { gateway: 'haproxy', version: '2.6.12', runtime: 'process', userConfig: false });
    expect(c.observed.crash).toEqual(segv);
    expect(c.verdict?.pass).toBe(true);
    const other = judgeCase({ scenario: s, numbers: [8], outcomes: [reset], durationMs: 4, crash: segv }, new Map(), { gateway: 'nginx', version: '1.22.1', runtime: 'process', userConfig: false });
    // No expectation for nginx: reported, not judged, and still a crash.
    expect(other.verdict).toBeUndefined();
    expect(other.observed.crash?.signal).toBe('SIGSEGV');
  });
});

describe('how a crash reads', () => {
  test('signal, exit code, or both (a container knows only its exit code)', () => {
    expect(crashHow({ signal: 'SIGSEGV', code: null })).toBe('signal SIGSEGV');
    expect(crashHow({ signal: null, code: 1 })).toBe('exit code 1');
    expect(crashHow({ signal: 'SIGSEGV', code: 139 })).toBe('signal SIGSEGV, exit code 139');
  });

  test('the cause is the FATAL line; other scenarios in flight are named when none crashed it alone', () => {
    expect(crashText(segv)).toBe('gateway crashed (signal SIGSEGV)');
    expect(crashCause(segv)).toBe('FATAL: bug condition "c_empty(ic)" matched at src/stconn.c:1479');
    expect(crashText({ ...segv, inFlightWith: ['a', 'b'] })).toBe('gateway crashed (signal SIGSEGV; in flight with a, b, and none crashed it alone)');
  });
});

describe('`gateway: crashes` in a scenario file', () => {
  const load = (yaml: string) => scenarioFromYaml(parseYaml(yaml, 'scenarios/x.yaml'), new Catalogue(), GATEWAYS.map((g) => g.id));

  test('is read, by version range', () => {
    const s = load('description: d\nfault: healthy\nexpect:\n  haproxy: {status: 200}\n  haproxy@<2.8: {gateway: crashes}\n');
    expect(s.expect['haproxy@<2.8']).toEqual({ gateway: 'crashes' });
  });

  test('any other value is refused with what to write', () => {
    let err: unknown;
    try {
      load('description: d\nfault: healthy\nexpect:\n  haproxy: {gateway: crashed}\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('BG_INVALID_SCENARIO');
    expect((err as Error).message).toMatch(/x\.yaml:4:\d+: expect\.haproxy\.gateway: gateway: takes one value, `crashes`/);
  });
});
