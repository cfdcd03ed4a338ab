/**
 * The pure parts of reproduce, sweep, the load: block and the HTML report: a log's reasons
 * turned into a mix (and the reasons that cannot be, with why), the two-proportion comparison,
 * a sweep's parameter checked against the mix, and the plots drawn inline.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadSuite } from '../../src/api/suite.js';
import { InputError } from '../../src/errors.js';
import { Catalogue } from '../../src/faults/registry.js';
import { nginx } from '../../src/gateways/nginx.js';
import { linePlot, loadToHtml, niceMax, sweepToHtml } from '../../src/load/html.js';
import { formatMix, parseMix } from '../../src/load/mix.js';
import { calibrate, compareReasons, planReproduction, readProductionLog } from '../../src/load/reproduce.js';
import type { LoadResult } from '../../src/load/run.js';
import { parseSweep, sweptMix } from '../../src/load/sweep.js';
import { scenarioFromYaml } from '../../src/scenarios/load.js';
import { parseYaml } from '../../src/yaml-source.js';

const catalogue = new Catalogue();
const line = (n: number, msg: string, target = '/x') => `2026/12/01 23:41:22 [error] 30985#30985: *${n} ${msg}, client: 127.0.0.1, server: s, request: "GET ${target} HTTP/1.1", upstream: "http://10.0.0.1:80${target}", host: "h"`;

// Messages as nginx 1.22.1 writes them (the load run of test/load/reproduce-cli.test.ts logged these).
const CLOSED = 'upstream prematurely closed connection while reading response header from upstream';
const RESET = 'recv() failed (104: Connection reset by peer) while reading response header from upstream';
const REFUSED = 'connect() failed (111: Connection refused) while connecting to upstream';

describe('reproduce: from a log to a mix', async () => {
  const { scenarios } = await loadSuite();
  const text = [...Array.from({ length: 6 }, (_, i) => line(i, CLOSED)), ...Array.from({ length: 3 }, (_, i) => line(i, RESET)), line(9, REFUSED), '2026/12/01 23:41:22 [notice] 1#1: start worker processes', ''].join('\n');
  const log = readProductionLog(nginx, text);

  test('counts lines by reason with the gateway parser', () => {
    expect(log.lines).toBe(11);
    expect(log.reasons.map((r) => [r.reason, r.count])).toEqual([['upstream-closed-early', 6], ['upstream-reset', 3], ['connect-refused', 1]]);
  });

  test('weights each reason by its count; names what it cannot reproduce and why', () => {
    const plan = planReproduction(nginx, log, scenarios);
    expect(plan.mix).toEqual([{ fault: 'empty-reply', weight: 6 }, { fault: 'reset-after-request', weight: 3 }]);
    const refused = plan.reasons.find((r) => r.reason === 'connect-refused')!;
    expect(refused.scenario).toBeUndefined();
    expect(refused.why).toMatch(/connect-refused is a listener fault/);
  });

  test('side by side: a share within the two-proportion bound holds, one far off does not', () => {
    const plan = planReproduction(nginx, log, scenarios);
    const loadWith = (reasons: Array<[string, number]>) => ({ logReasons: reasons.map(([reason, count]) => ({ reason, count, example: '' })) }) as unknown as LoadResult;
    const near = compareReasons('error.log', log, plan, loadWith([['upstream-closed-early', 640], ['upstream-reset', 360]]));
    expect(near.comparison.find((c) => c.reason === 'upstream-closed-early')!.withinBound).toBe(true);
    expect(near.comparison.find((c) => c.reason === 'connect-refused')!.why).toMatch(/listener fault/);
    expect(near.reproduced).toBe(true);
    // 6 of 9 against 100 of 1000: far beyond chance, even with 9 production lines.
    const far = compareReasons('error.log', log, plan, loadWith([['upstream-closed-early', 100], ['upstream-reset', 900]]));
    expect(far.comparison.find((c) => c.reason === 'upstream-closed-early')!.withinBound).toBe(false);
    expect(far.reproduced).toBe(false);
  });

  test('calibration divides each weight by the log lines its scenario gave per request', () => {
    const plan = planReproduction(nginx, log, scenarios);
    // As HAProxy 2.6.12 does: no line for an empty-reply request whose client connection it closed.
    const first = { byFault: [{ sent: 100 }, { sent: 100 }], logReasons: [{ reason: 'upstream-closed-early', count: 50 }, { reason: 'upstream-reset', count: 100 }] } as unknown as LoadResult;
    const c = calibrate(plan, first);
    expect(c.yields.map((y) => y.linesPerRequest)).toEqual([0.5, 1]);
    expect(c.mix).toEqual([{ fault: 'empty-reply', weight: 12 }, { fault: 'reset-after-request', weight: 3 }]);
    // An entry that gave no line at all, or too few requests or lines to tell, keeps its weight.
    expect(calibrate(plan, { byFault: [{ sent: 100 }, { sent: 100 }], logReasons: [] } as unknown as LoadResult).mix.map((e) => e.weight)).toEqual([6, 3]);
    const few = { byFault: [{ sent: 10 }, { sent: 100 }], logReasons: [{ reason: 'upstream-closed-early', count: 1 }, { reason: 'upstream-reset', count: 9 }] } as unknown as LoadResult;
    expect(calibrate(plan, few).yields.map((y) => y.linesPerRequest)).toEqual([undefined, undefined]);
    expect(calibrate(plan, few).mix.map((e) => e.weight)).toEqual([6, 3]);
  });

  test('a reason it cannot reproduce does not shift the others: shares are tested against the lines it could', () => {
    const big = readProductionLog(nginx, [...Array.from({ length: 600 }, (_, i) => line(i, CLOSED)), ...Array.from({ length: 300 }, (_, i) => line(i, RESET)), ...Array.from({ length: 100 }, (_, i) => line(i, REFUSED))].join('\n'));
    const plan = planReproduction(nginx, big, scenarios);
    const r = compareReasons('error.log', big, plan, { logReasons: [{ reason: 'upstream-closed-early', count: 6670, example: '' }, { reason: 'upstream-reset', count: 3330, example: '' }] } as unknown as LoadResult);
    // 600 of 1000 lines against 6670 of 10000 would be outside the bound; 600 of the 900 reproducible ones is not.
    expect(r.comparison.find((c) => c.reason === 'upstream-closed-early')).toMatchObject({ production: { count: 600, share: 0.6 }, withinBound: true });
    expect(r.comparison.find((c) => c.reason === 'connect-refused')!.withinBound).toBeUndefined();
    expect(r.reproduced).toBe(true);
  });
});

describe('mix parameters and --sweep', () => {
  test('a mix entry carries its fault parameters, and prints them back for the replay line', () => {
    const mix = parseMix('healthy:99,keepalive-idle-close?idleMs=5000:1', catalogue);
    expect(mix[1]).toEqual({ fault: 'keepalive-idle-close', weight: 1, params: { idleMs: 5000 } });
    expect(formatMix(mix)).toBe('healthy:99,keepalive-idle-close?idleMs=5000:1');
  });

  test('a sweep sets its parameter on every fault that declares it, and refuses one none declares', () => {
    const mix = parseMix('healthy:99,keepalive-idle-close:1', catalogue);
    const sweep = parseSweep('idleMs=1000,5000,60000', mix, catalogue);
    expect(sweep.values).toEqual([1000, 5000, 60000]);
    expect(sweptMix(mix, sweep, 5000)).toEqual([{ fault: 'healthy', weight: 99 }, { fault: 'keepalive-idle-close', weight: 1, params: { idleMs: 5000 } }]);
    expect(() => parseSweep('keepAliveIdleMs=1,2', mix, catalogue)).toThrow(/no fault of the mix has a parameter "keepAliveIdleMs"; the mix's faults take idleMs \(keepalive-idle-close\)/);
    expect(() => parseSweep('idleMs', mix, catalogue)).toThrow(InputError);
    expect(() => parseSweep('idleMs=1,1', mix, catalogue)).toThrow(/names a value twice/);
    expect(() => parseSweep(`idleMs=${Array.from({ length: 51 }, (_, i) => i + 1).join(',')}`, mix, catalogue)).toThrow(/names 51 values; give at most 50/);
  });
});

describe("a scenario's load: block", () => {
  const yaml = (text: string) => scenarioFromYaml(parseYaml(text, join('/tmp', 'keepalive-race.yaml')), catalogue, ['nginx']);

  test('is read with the flags\' parsers; without a mix the scenario\'s own fault is the mix', () => {
    const s = yaml('description: d\nfault: { id: keepalive-idle-close, params: { idleMs: 200 } }\nexpect: {}\nload:\n  rate: 500/s\n  duration: 2s\n  connections: 8\n  method: POST\n');
    expect(s.load).toEqual({ rate: 500, durationMs: 2000, connections: 8, method: 'POST', mix: [{ fault: 'keepalive-idle-close', weight: 1, params: { idleMs: 200 } }] });
    const m = yaml('description: d\nfault: healthy\nexpect: {}\nload:\n  mix: { healthy: 99, empty-reply: 1 }\n  sweep: "x=1"\n');
    expect(m.load!.mix).toEqual([{ fault: 'healthy', weight: 99 }, { fault: 'empty-reply', weight: 1 }]);
  });

  test('a bad value fails at its key, with file and line', () => {
    expect(() => yaml('description: d\nfault: healthy\nexpect: {}\nload:\n  rate: fast\n')).toThrow(/keepalive-race\.yaml:5:\d+: rate: "?fast"? is not a rate/);
    expect(() => yaml('description: d\nfault: connect-refused\nexpect: {}\nload:\n  rate: 5/s\n')).toThrow(/listener fault/);
  });
});

describe('the HTML load report', () => {
  test('axes round up to 1, 2 or 5 times a power of ten', () => {
    expect([niceMax(0), niceMax(0.013), niceMax(3), niceMax(170)]).toEqual([1, 0.02, 5, 200]);
  });

  test('plots p99 and the error rate over time as inline SVG, with a gap for a second without answers', () => {
    const svg = linePlot([[0, 1], [1, undefined], [2, 3], [3, 4]], { cls: 'lat', yLabel: String, title: 't' });
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    const r = {
      settings: { method: 'GET', rate: 100, connections: 4, seed: 1 },
      gateway: { id: 'nginx', version: '1.22.1', runtime: 'process' },
      interrupted: false, due: 200, sent: 200, unsent: 0, achievedRate: 100, windowMs: 2000, queued: 0, late: 0,
      byStatus: { 200: 190, 502: 10 }, byBody: { complete: 200, truncated: 0, none: 0 }, noResponse: {},
      byFault: [{ fault: 'healthy', weight: 1, sent: 200, byStatus: { 200: 190, 502: 10 } }],
      errors: { count: 10, of: 200, rate: 0.05, low: 0.03, high: 0.09 },
      latencyMs: { p50: 1, p90: 2, p99: 3, p999: 4, max: 5 }, latencyBuckets: [[900, 1000, 150], [2000, 2100, 50]],
      logReasons: [{ reason: 'upstream-reset', count: 10, example: 'recv() failed <b>' }],
      timeline: [{ second: 0, done: 100, errors: 2, p99Ms: 3 }, { second: 1, done: 100, errors: 8, p99Ms: 4 }],
      command: 'badgateway load --mix healthy:1', sequenceDigest: 'abcd1234',
    } as unknown as LoadResult;
    const html = loadToHtml(r);
    expect(html.match(/<svg class="plot"/g)).toHaveLength(3);
    expect(html).toContain('class="err"');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('recv() failed &lt;b&gt;');
    const sweep = sweepToHtml({ format: 'badgateway-load-sweep/1', param: 'idleMs', interrupted: false, rows: [{ value: 100, result: r }, { value: 2000, result: r }] });
    expect(sweep.match(/<tr><th>idleMs=\d+<\/th>/g)).toHaveLength(2);
    expect(sweep.match(/<svg class="plot"/g)).toHaveLength(6);
  });
});
