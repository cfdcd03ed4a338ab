import { describe, expect, test } from 'vitest';
import { explainLine } from './explain.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probe } from '../probe/http-probe.js';
import cloudflare, { logpushExampleLine, parseLogpushLine } from './cloudflare.js';
import { runtimeRefusal } from './profile.js';

/** A Logpush http_requests record as a job with these fields writes it (one JSON object per line). */
const RECORD = (edge: number, origin: number, uri = '/s/connect-refused/?bgp=4') =>
  JSON.stringify({
    CacheCacheStatus: 'dynamic',
    ClientIP: '198.51.100.7',
    ClientRequestHost: 'badgateway.example.com',
    ClientRequestMethod: 'GET',
    ClientRequestURI: uri,
    EdgeResponseStatus: edge,
    EdgeStartTimestamp: 1764627780000000000,
    OriginIP: '203.0.113.10',
    OriginResponseDurationMs: 12,
    OriginResponseStatus: origin,
    OriginTCPHandshakeDurationMs: 0,
    RayID: '8a1b2c3d4e5f6a7b',
    NewFieldCloudflareAddsLater: { any: 'thing' },
  });

describe('Cloudflare Logpush HTTP-request lines', () => {
  test.each([
    [520, 'invalid-response'],
    [521, 'connect-refused'],
    [522, 'connect-timeout'],
    [524, 'read-timeout'],
    [525, 'tls-handshake-failed'],
    [526, 'tls-cert-invalid'],
  ])('EdgeResponseStatus %i gives %s, and explain names cloudflare', (status, reason) => {
    const line = RECORD(status, 0);
    expect(cloudflare.parseLogLine(line)).toMatchObject({ reason, level: 'error', target: '/s/connect-refused/?bgp=4', connection: '8a1b2c3d4e5f6a7b' });
    const ex = explainLine(line)!;
    expect(ex.gateway).toBe('cloudflare');
    expect(ex.info.reason).toBe(reason);
  });

  test("the origin's own 502 passed on, a cached 200 and Cloudflare's own 502/504 give no origin reason", () => {
    expect(cloudflare.parseLogLine(RECORD(502, 502))?.reason).toBeUndefined();
    expect(cloudflare.parseLogLine(RECORD(200, 0))).toMatchObject({ level: 'info' });
    expect(cloudflare.parseLogLine(RECORD(504, 0))?.reason).toBeUndefined();
  });

  test('lines that are not Logpush records are not read as one', () => {
    expect(parseLogpushLine('{"level":"error","msg":"EOF"}')).toBeUndefined();
    expect(parseLogpushLine('{not json')).toBeUndefined();
    expect(parseLogpushLine('[1,2]')).toBeUndefined();
    expect(parseLogpushLine(logpushExampleLine(521, 0))?.RayID).toBe('8a1b2c3d4e5f6a7b');
  });

  test('a probe records the CF-Ray response header (the Logpush RayID with the colo); a response without one records none', async () => {
    const rays = ['8a1b2c3d4e5f6a7b-FRA', undefined];
    const server = createServer((_req, res) => {
      const ray = rays.shift();
      res.writeHead(521, ray ? { 'CF-RAY': ray, Server: 'cloudflare' } : {});
      res.end('origin down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const first = await probe({ host: '127.0.0.1', port, method: 'GET', target: '/s/connect-refused/?bgp=1', timeoutMs: 5000 });
      expect(first).toMatchObject({ status: 521, cfRay: '8a1b2c3d4e5f6a7b-FRA' });
      const second = await probe({ host: '127.0.0.1', port, method: 'GET', target: '/', timeoutMs: 5000 });
      expect(second.status).toBe(521);
      expect(second.cfRay).toBeUndefined();
    } finally {
      server.close();
    }
  });

  test('runs only with the external runtime', () => {
    expect(runtimeRefusal(cloudflare, 'process')).toMatch(/^cloudflare runs only with --runtime external, and --runtime process was given\. .*proxied hostname or behind a Cloudflare Tunnel/);
    expect(runtimeRefusal(cloudflare, 'external')).toBeUndefined();
  });
});
