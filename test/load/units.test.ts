/**
 * The load module's pure parts: the seeded mix sampler (replay), the log-bucketed histogram
 * (percentiles within its stated precision), the Wilson interval, and the flag parsers.
 */
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { parseDuration, parseRate, parseSeed } from '../../src/load/flags.js';
import { highestOf, indexOf, LatencyHistogram, lowestOf } from '../../src/load/histogram.js';
import { formatMix, MixSampler, parseMix } from '../../src/load/mix.js';
import { wilson } from '../../src/load/stats.js';

const catalogue = new Catalogue();

describe('mix sampler', () => {
  const mix = parseMix('healthy:99,reset-after-request:1', catalogue);
  const draw = (seed: number, n: number) => {
    const s = new MixSampler(mix, seed);
    return Array.from({ length: n }, () => s.next());
  };

  test('the same seed gives the same sequence of faults; another seed another', () => {
    const a = draw(7, 20_000);
    expect(draw(7, 20_000)).toEqual(a);
    expect(draw(8, 20_000)).not.toEqual(a);
    // Not a degenerate sequence: the rare fault does occur, at its places.
    expect(a.filter((i) => i === 1).length).toBeGreaterThan(0);
  });

  test('shares follow the weights within the binomial bound', () => {
    const n = 100_000;
    const picks = draw(12345, n).filter((i) => i === 1).length;
    // 99.9 % two-sided: |X - np| <= 3.29 sqrt(np(1-p)).
    const bound = 3.29 * Math.sqrt(n * 0.01 * 0.99);
    expect(Math.abs(picks - n * 0.01)).toBeLessThanOrEqual(bound);
  });

  test('a weight of 0 is never drawn', () => {
    const s = new MixSampler(parseMix('healthy:0,empty-reply:1', catalogue), 1);
    for (let i = 0; i < 1000; i++) expect(s.next()).toBe(1);
  });

  test('parseMix reads fault:weight pairs and refuses what cannot be drawn per request', () => {
    expect(formatMix(parseMix(' healthy:999 , keepalive-idle-close:1 ', catalogue))).toBe('healthy:999,keepalive-idle-close:1');
    expect(parseMix('healthy', catalogue)).toEqual([{ fault: 'healthy', weight: 1 }]);
    expect(() => parseMix('unknown-fault:1', catalogue)).toThrow(/unknown fault "unknown-fault"/);
    expect(() => parseMix('connect-refused:1', catalogue)).toThrow(/listener fault/);
    expect(() => parseMix('dns-nxdomain:1', catalogue)).toThrow(/DNS fault/);
    expect(() => parseMix('fcgi-healthy:1', catalogue)).toThrow(/FastCGI fault/);
    expect(() => parseMix('healthy:x', catalogue)).toThrow(/not a number/);
    expect(() => parseMix('healthy:1,healthy:2', catalogue)).toThrow(/named twice/);
    expect(() => parseMix('healthy:0', catalogue)).toThrow(/every weight is 0/);
  });
});

describe('latency histogram', () => {
  test('every value lies in its bucket, and a bucket is at most 1/128 of its values wide', () => {
    for (const v of [0, 1, 127, 128, 129, 255, 256, 1000, 65_535, 65_536, 1_234_567, 2 ** 31, 2 ** 32 - 1]) {
      const i = indexOf(v);
      expect(lowestOf(i)).toBeLessThanOrEqual(v);
      expect(highestOf(i)).toBeGreaterThanOrEqual(v);
      expect(highestOf(i) - lowestOf(i) + 1).toBeLessThanOrEqual(Math.max(1, lowestOf(i) / 128));
    }
    // Buckets tile the line: the next bucket starts right after this one ends.
    for (let i = 0; i < 2000; i++) expect(lowestOf(i + 1)).toBe(highestOf(i) + 1);
  });

  test('percentiles of a known distribution within the stated precision', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const exact = q * 100_000;
      expect(Math.abs(h.quantile(q)! - exact) / exact).toBeLessThan(1 / 128);
    }
    expect(h.quantile(1)).toBe(100_000);
    expect(h.max).toBe(100_000);
    expect(h.count).toBe(100_000);
  });

  test('a tail is not averaged away: one slow value in 1000 is the max, not a blur in the mean', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 999; i++) h.record(1000);
    h.record(5_000_000);
    // A percentile reads as the highest value of its bucket (HdrHistogram's convention): 1000 within 1/128.
    expect(h.quantile(0.999)).toBeGreaterThanOrEqual(1000);
    expect(h.quantile(0.999)).toBeLessThan(1000 * (1 + 1 / 128));
    expect(h.quantile(0.9999)).toBe(5_000_000);
    expect(new LatencyHistogram().quantile(0.5)).toBeUndefined();
  });
});

describe('Wilson interval', () => {
  test('matches the textbook values', () => {
    // 10 of 100: 0.0552 to 0.1744 (Wilson 1927; e.g. Newcombe 1998, Table I).
    const a = wilson(10, 100)!;
    expect(a.low).toBeCloseTo(0.0552, 4);
    expect(a.high).toBeCloseTo(0.1744, 4);
    const zero = wilson(0, 1000)!;
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(0.00383, 5);
    expect(wilson(0, 0)).toBeUndefined();
  });
});

describe('flags', () => {
  test('rates, durations and seeds', () => {
    expect(parseRate('2000/s')).toBe(2000);
    expect(parseRate('120/m')).toBe(2);
    expect(parseRate('500')).toBe(500);
    expect(parseDuration('--duration', '30s')).toBe(30_000);
    expect(parseDuration('--duration', '500ms')).toBe(500);
    expect(parseDuration('--duration', '2m')).toBe(120_000);
    expect(parseDuration('--duration', '3')).toBe(3000);
    expect(parseSeed('7')).toBe(7);
    expect(() => parseRate('abc')).toThrow(/--rate abc is not a rate/);
    expect(() => parseRate('0/s')).toThrow(/out of range/);
    expect(() => parseDuration('--duration', '-1')).toThrow(/--duration -1 is not a duration/);
    expect(() => parseDuration('--duration', '0s')).toThrow(/out of range/);
    expect(() => parseSeed('-3')).toThrow(/not a seed/);
  });
});
