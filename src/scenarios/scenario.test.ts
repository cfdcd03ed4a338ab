/**
 * Version ranges and which expectation a version gets: judged only between measured versions
 * that the same keys apply to, otherwise "not measured" with the nearest measured version.
 */
import { describe, expect, test } from 'vitest';
import { compareGatewayVersions, expectationFor, RANGE, resolveExpectation, satisfies, type Expectation, type Scenario } from './scenario.js';

const scenario = (expect: Record<string, Expectation>) => ({ id: 's', expect }) as unknown as Scenario;

describe('satisfies', () => {
  test('dotted comparisons, all must hold', () => {
    expect(satisfies('1.26.3', '>=1.26')).toBe(true);
    expect(satisfies('1.25.9', '>=1.26')).toBe(false);
    expect(satisfies('2.6.12', '>=2.6 <2.7')).toBe(true);
    expect(satisfies('2.7.0', '>=2.6 <2.7')).toBe(false);
    expect(satisfies('1.22.1', '1.22.1')).toBe(true);
    expect(satisfies('1.22.1', '=1.22')).toBe(false);
    expect(satisfies('1.22.1', 'junk')).toBe(false);
  });

  test('+go ranges hold the Go toolchain; a version without one satisfies none', () => {
    expect(satisfies('2.6.2+go1.24.4', '2.6.2+go>=1.20')).toBe(true);
    expect(satisfies('2.6.2+go1.19.8', '2.6.2+go>=1.20')).toBe(false);
    expect(satisfies('2.6.2', '2.6.2+go>=1.20')).toBe(false);
    expect(satisfies('2.11.2+go1.24.4', '2.6.2+go>=1.20')).toBe(false);
    expect(satisfies('2.11.2+go1.24.4', '+go>=1.20')).toBe(true);
    expect(satisfies('2.11.2+go1.24.4', '>=2.11 +go>=1.20 <1.30')).toBe(true);
    // A range on the release alone ignores the toolchain.
    expect(satisfies('2.6.2+go1.19.8', '<2.7')).toBe(true);
  });

  test('+node ranges hold the Node a proxy runs on, as +go ranges hold Go', () => {
    expect(satisfies('3.0.11+node24.22', '+node>=22')).toBe(true);
    expect(satisfies('3.0.11+node20.20', '+node>=22')).toBe(false);
    expect(satisfies('3.0.11+node20.20', '3.0.11+node<22')).toBe(true);
    // The toolchain a range names must be the one the version names.
    expect(satisfies('2.6.2+go24.1', '+node>=22')).toBe(false);
    expect(satisfies('3.0.11', '+node>=22')).toBe(false);
    expect(compareGatewayVersions('3.0.11+node20.20', '3.0.11+node24.22')).toBeLessThan(0);
  });

  test('RANGE accepts what satisfies reads and nothing else', () => {
    for (const r of ['>=1.26', '>=2.6 <2.7', '2.6.2+go>=1.20', '+go<1.20', '>=2.11 +go>=1.20 <1.30', '+node>=22', '3.0.11+node<22']) expect(RANGE.test(r), r).toBe(true);
    for (const r of ['', 'latest', '>=1.x', '+go', '+node', '2.6.2+rust1', '~1.2']) expect(RANGE.test(r), r).toBe(false);
  });

  test('versions order by release, then by Go toolchain', () => {
    expect(compareGatewayVersions('1.30.0', '1.26.3')).toBeGreaterThan(0);
    expect(compareGatewayVersions('2.6.2+go1.19.8', '2.6.2+go1.24.4')).toBeLessThan(0);
    expect(compareGatewayVersions('2.11.2+go1.19', '2.6.2+go1.24.4')).toBeGreaterThan(0);
  });
});

describe('resolveExpectation', () => {
  const nginxMeasured = ['1.22.1', '1.26.3', '1.30.0'];
  // A change in 1.23 (measured on 1.26 and 1.30), and a plain key for every version.
  const s = scenario({ nginx: { status: 200, body: 'truncated' }, 'nginx@>=1.23': { status: 502, body: 'complete' }, haproxy: { status: 502 } });

  test('a measured version gets its keys merged, as expectationFor writes them', () => {
    expect(resolveExpectation(s, 'nginx', '1.22.1', nginxMeasured)).toEqual({ measured: true, expectation: { status: 200, body: 'truncated' } });
    expect(resolveExpectation(s, 'nginx', '1.26.3', nginxMeasured)).toEqual({ measured: true, expectation: { status: 502, body: 'complete' } });
    expect(expectationFor(s, 'nginx', '1.30.0')).toEqual({ status: 502, body: 'complete' });
  });

  test('between measured versions with the same keys: judged', () => {
    expect(resolveExpectation(s, 'nginx', '1.28.0', nginxMeasured)).toMatchObject({ measured: true, expectation: { status: 502 } });
  });

  test('a version whose keys no measured version shares, or beyond them: not measured, naming the nearest', () => {
    // 1.24 gets the >=1.23 entry, measured only from 1.26.3 on.
    expect(resolveExpectation(s, 'nginx', '1.24.0', nginxMeasured)).toEqual({
      measured: false,
      why: 'not measured on nginx 1.24.0',
      from: { version: '1.26.3', expectation: { status: 502, body: 'complete' } },
    });
    expect(resolveExpectation(s, 'nginx', '1.31.4', nginxMeasured)).toMatchObject({ measured: false, why: 'not measured on nginx 1.31.4', from: { version: '1.30.0' } });
    expect(resolveExpectation(s, 'nginx', '1.18.0', nginxMeasured)).toMatchObject({ measured: false, from: { version: '1.22.1', expectation: { status: 200 } } });
    expect(resolveExpectation(s, 'nginx', undefined, nginxMeasured)).toMatchObject({ measured: false, why: 'not measured on nginx (version unknown)' });
  });

  test('never across a measured version that behaved otherwise', () => {
    // HAProxy 3.0 logged otherwise; 2.6 and 3.2 agree. 2.8 lies between 2.6 and 3.0: not measured.
    const h = scenario({ haproxy: { reason: 'read-timeout' }, 'haproxy@>=3.0 <3.1': { reason: 'none' } });
    const measured = ['2.6.12', '3.0.11', '3.2.26'];
    expect(resolveExpectation(h, 'haproxy', '2.8.0', measured)).toMatchObject({ measured: false, from: { version: '2.6.12', expectation: { reason: 'read-timeout' } } });
    expect(resolveExpectation(h, 'haproxy', '3.1.0', measured)).toMatchObject({ measured: false, from: { version: '2.6.12' } });
    expect(resolveExpectation(h, 'haproxy', '3.0.11', measured)).toEqual({ measured: true, expectation: { reason: 'none' } });
    expect(resolveExpectation(h, 'haproxy', '3.0.12', measured)).toMatchObject({ measured: false, from: { version: '3.0.11' } });
    // With 3.0 agreeing, the plain key spans the whole measured range.
    expect(resolveExpectation(scenario({ haproxy: { reason: 'none' } }), 'haproxy', '2.8.0', measured)).toMatchObject({ measured: true });
  });

  test('a plain key applies between the lowest and highest measured version, not past them', () => {
    expect(resolveExpectation(s, 'haproxy', '2.8.0', ['2.6.12', '3.2.9'])).toMatchObject({ measured: true });
    expect(resolveExpectation(s, 'haproxy', '3.3.0', ['2.6.12', '3.2.9'])).toMatchObject({ measured: false, why: 'not measured on haproxy 3.3.0', from: { version: '3.2.9' } });
    expect(resolveExpectation(s, 'haproxy', '2.6.12', ['2.6.12'])).toMatchObject({ measured: true });
    expect(resolveExpectation(s, 'haproxy', '2.6.13', ['2.6.12'])).toMatchObject({ measured: false });
  });

  test('the Go toolchain: a build outside the measured ones is not measured', () => {
    const c = scenario({ caddy: { status: 200 }, 'caddy@2.6.2+go>=1.20': { status: 502 }, 'caddy@>=2.11': { status: 'no-response' } });
    const measured = ['2.6.2+go1.19.8', '2.6.2+go1.24.4', '2.11.2+go1.24.4'];
    expect(resolveExpectation(c, 'caddy', '2.6.2+go1.19.8', measured)).toEqual({ measured: true, expectation: { status: 200 } });
    expect(resolveExpectation(c, 'caddy', '2.6.2+go1.24.4', measured)).toEqual({ measured: true, expectation: { status: 502 } });
    expect(resolveExpectation(c, 'caddy', '2.6.2+go1.22.1', measured)).toMatchObject({ measured: false, from: { version: '2.6.2+go1.24.4' } });
    // 2.8 gets the plain key alone, measured only on 2.6.2 with Go 1.19.
    expect(resolveExpectation(c, 'caddy', '2.8.4+go1.22.1', measured)).toMatchObject({ measured: false, why: 'not measured on caddy 2.8.4+go1.22.1', from: { version: '2.6.2+go1.19.8' } });
  });

  test('a gateway with no key, or a measured version without one, says so', () => {
    expect(resolveExpectation(s, 'caddy', '2.6.2', ['2.6.2'])).toEqual({ measured: false, why: 'no expectation measured for caddy' });
    const only = scenario({ 'nginx@<1.23': { status: 200 } });
    expect(resolveExpectation(only, 'nginx', '1.26.3', nginxMeasured)).toEqual({ measured: false, why: 'no expectation measured for nginx 1.26.3 (measured: nginx@<1.23)' });
  });

  test('without measured versions (a gateway the project never measured), keys are taken as written', () => {
    expect(resolveExpectation(s, 'haproxy', '9.9.9', undefined)).toEqual({ measured: true, expectation: { status: 502 } });
  });
});
