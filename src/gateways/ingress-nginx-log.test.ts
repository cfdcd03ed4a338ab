import { describe, expect, test } from 'vitest';
import { parseIngressAccessLine } from './ingress-nginx-log.js';
import { nginx } from './nginx.js';

/**
 * What `kubectl logs -f deploy/ingress-nginx-controller -n ingress-nginx` prints for one request
 * that met empty-reply through the deploy/kubernetes manifest: the nginx error line, then the
 * access line in the controller's default upstreaminfo format.
 */
const ERROR =
  '2026/12/01 22:23:00 [error] 45#45: *1234 upstream prematurely closed connection while reading response header from upstream, client: 192.168.49.1, server: badgateway.local, request: "GET /s/empty-reply/?bgp=3 HTTP/1.1", upstream: "http://10.244.0.5:8080/s/empty-reply/?bgp=3", host: "badgateway.local"';
const ACCESS =
  '192.168.49.1 - - [01/Dec/2026:22:23:00 +0000] "GET /s/empty-reply/?bgp=3 HTTP/1.1" 502 150 "-" "badgateway" 112 0.002 [badgateway-badgateway-upstream-8080] [] 10.244.0.5:8080 0 0.001 502 bg-1f2e-3';
/** After proxy_next_upstream tried a second endpoint: the upstream fields are lists. */
const RETRIED =
  '192.168.49.1 - - [01/Dec/2026:22:23:01 +0000] "GET /s/reset-on-accept/?bgp=9 HTTP/1.1" 502 150 "-" "curl/8.5.0" 98 0.004 [badgateway-badgateway-upstream-8080] [] 10.244.0.5:8080, 10.244.0.6:8080 0, 0 0.001, 0.002 502, 502 5f0c0b7e4d1a2c3b4a5f6e7d8c9b0a1f';

describe('ingress-nginx logs through the nginx adapter', () => {
  test('the error line gives its reason and names the request, as any nginx error line', () => {
    expect(nginx.parseLogLine(ERROR)).toMatchObject({ reason: 'upstream-closed-early', target: '/s/empty-reply/?bgp=3', level: 'error', connection: '1234' });
  });

  test('an upstreaminfo access line is attributed to its request, with no reason of its own', () => {
    const e = nginx.parseLogLine(ACCESS)!;
    expect(e).toMatchObject({ target: '/s/empty-reply/?bgp=3', level: 'error' });
    expect(e.reason).toBeUndefined();
    expect(parseIngressAccessLine(ACCESS)).toEqual({ target: '/s/empty-reply/?bgp=3', status: 502, upstreamName: 'badgateway-badgateway-upstream-8080', upstreamStatus: '502', requestId: 'bg-1f2e-3' });
  });

  test('after a retry the upstream fields are lists', () => {
    expect(parseIngressAccessLine(RETRIED)).toMatchObject({ target: '/s/reset-on-accept/?bgp=9', upstreamStatus: '502, 502', requestId: '5f0c0b7e4d1a2c3b4a5f6e7d8c9b0a1f' });
  });

  test('a healthy request is an info line; controller chatter is no log entry', () => {
    expect(nginx.parseLogLine(ACCESS.replace('" 502 150', '" 200 150').replace(' 0.001 502 ', ' 0.001 200 '))?.level).toBe('info');
    expect(nginx.parseLogLine('I1201 22:22:59.000000       7 controller.go:190] "Configuration changes detected, backend reload required"')).toBeUndefined();
  });
});
