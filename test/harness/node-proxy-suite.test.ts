/**
 * The whole built-in suite through the real Node proxies (http-proxy-middleware on express,
 * @fastify/http-proxy on fastify), as child processes on the Node that runs this test: the
 * expectations in scenarios/*.yaml were measured with http-proxy-middleware 3.0.11 and
 * @fastify/http-proxy 11.6.3 on Node 20.20 and 24.22 (the whole suite, five times on each);
 * this proves they hold, that each error is attributed to its request through the proxy's own
 * error log, and that the DNS scenarios are skipped with the reason.
 */
import { describe, expect, test } from 'vitest';
import { expectedSkipReason, failures, runBuiltin } from '../helpers/suite.js';


describe.each([
  ['http-proxy-middleware', /^3\.\d+\.\d+\+node\d+\.\d+$/, { 'connect-refused': 504, 'header-no-colon': 502 }],
  ['fastify-http-proxy', /^11\.\d+\.\d+\+node\d+\.\d+$/, { 'connect-refused': 500, 'header-no-colon': 500 }],
] as const)('%s through the process runtime', (id, version, statuses) => {
  test('the whole built-in suite: every expectation holds; errors are attributed through its error log; DNS is skipped with the reason', { timeout: 120_000 }, async () => {
    const r = await runBuiltin([id], 'process');
    const run = r.runs[0]!;
    // The version names the Node it ran on: Node's parser and sockets decide part of what it does.
    expect(run.version).toMatch(version);
    expect(run.version).toContain(`+node${process.versions.node.split('.').slice(0, 2).join('.')}`);
    expect(run.source).toBe(process.execPath);
    expect(failures(r)).toBe('');
    expect(r.unchecked).toBe(0);
    expect(r.passed).toBe(run.cases.length);
    expect(r.passed).toBeGreaterThanOrEqual(40);
    expect(run.skipped.map((s) => s.scenario.id)).toContain('dns-nxdomain');
    // Only DNS, pool and FastCGI scenarios are skipped, each with its own reason.
    for (const s of run.skipped) expect(s.why, s.scenario.id).toMatch(expectedSkipReason(run.gateway, s.scenario));
    const byId = new Map(run.cases.map((c) => [c.scenario.id, c]));
    for (const [s, status] of Object.entries(statuses)) expect(byId.get(s)!.observed.status, s).toBe(status);
    const refused = byId.get('connect-refused')!;
    expect(refused.observed.reasons).toEqual(['connect-refused']);
    // One JSON line from the proxy's error handler, naming the request and Node's error code.
    expect(refused.logs.some((l) => /"url":"\/s\/connect-refused\/\?bgp=\d+".*"ECONNREFUSED"/.test(l.raw))).toBe(true);
    expect(byId.get('healthy')!.logs).toEqual([]);
  });
});

describe('a user\'s own http-proxy-middleware entry', () => {
  test('placeholders filled, its require() finds the packages, its error answer and log line are what the report shows', { timeout: 60_000 }, async () => {
    const text = [
      "const http = require('node:http');",
      "const fs = require('node:fs');",
      "const express = require('express');",
      "const { createProxyMiddleware } = require('http-proxy-middleware');",
      'const app = express();',
      "app.use(createProxyMiddleware({ target: 'http://{{upstream}}', on: { error(err, req, res) {",
      "  fs.appendFileSync('{{log}}', JSON.stringify({ gateway: 'http-proxy-middleware', phase: 'head', url: req.url, code: err.code, message: err.message }) + '\\n');",
      "  res.writeHead(502).end('upstream trouble');",
      '} } }));',
      "const [host, port] = '{{listen}}'.split(':');",
      'http.createServer(app).listen(Number(port), host);',
    ].join('\n');
    const r = await runBuiltin(['http-proxy-middleware'], 'process', { only: ['healthy', 'empty-reply'], userConfig: { file: 'my-proxy.cjs', text } });
    const cases = new Map(r.runs[0]!.cases.map((c) => [c.scenario.id, c]));
    expect(cases.get('healthy')!.observed.status).toBe(200);
    // The user's on.error answers 502 where the middleware's own handler answers 504.
    const c = cases.get('empty-reply')!;
    expect(c.observed.status).toBe(502);
    expect(c.observed.reasons).toEqual(['upstream-closed-early']);
    expect(r.runs[0]!.userConfig).toBe('my-proxy.cjs');
  });
});
