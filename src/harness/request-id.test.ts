import { describe, expect, test } from 'vitest';
import alb, { albExampleLine } from '../gateways/alb.js';
import { nginx } from '../gateways/nginx.js';
import { attribute } from './attribute.js';
import { newRunId, probeFromId, requestId, runTag, traceRoot } from './request-id.js';

describe('request ids', () => {
  const run = newRunId();
  test('both forms name the run and the probe, and read back', () => {
    expect(requestId(run, 42)).toMatch(/^bg-[0-9a-f]{12}-42$/);
    const root = traceRoot(run, 42, Date.UTC(2026, 0, 1));
    // The shape ALB requires of a Root it keeps: 1-<8 hex seconds>-<24 hex>.
    expect(root).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(probeFromId(requestId(run, 42), run)).toBe(42);
    expect(probeFromId(`Root=${root}`, run)).toBe(42);
    expect(probeFromId(requestId('0123456789ab', 42), run)).toBeUndefined();
    expect(probeFromId('some-other-id', run)).toBeUndefined();
  });

  test("a shared log's lines of another run are not attributed to this run's probes", () => {
    const line = (tag: string) =>
      `2026/12/01 23:30:00 [error] 1#1: *7 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /s/empty-reply/?bgp=3&${tag} HTTP/1.1", upstream: "http://127.0.0.1:9/s/empty-reply/?bgp=3&${tag}", host: "127.0.0.1:8080"`;
    const text = [line(runTag('0123456789ab')), line(runTag(run))].join('\n');
    const mine = attribute(nginx, text, run);
    expect(mine.get(3)?.map((e) => e.raw)).toEqual([line(runTag(run))]);
    // Without a run id (a run that started its own gateway), every ?bgp= line counts, as before.
    expect(attribute(nginx, text).get(3)).toHaveLength(2);
  });

  test("an ALB access-log line is attributed to its probe by its trace_id", () => {
    const root = traceRoot(run, 5, Date.UTC(2026, 0, 1));
    const line = albExampleLine('-1 -1 -1', '502 -', '/s/empty-reply/').replace(/"Root=[^"]*"/, `"Root=${root}"`);
    expect(line).toContain(root);
    expect(alb.parseLogLine(line)?.requestId).toBe(`Root=${root}`);
    expect(attribute(alb, line, run).get(5)?.map((e) => e.raw)).toEqual([line]);
  });
});
