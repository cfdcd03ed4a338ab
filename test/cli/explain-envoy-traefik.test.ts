import { expect, test } from 'vitest';
import { explainLine } from '../../src/gateways/explain.js';
import { runCli } from '../helpers/cli.js';

test('explain reads an Envoy access-log line (the default format, or Istio\'s with details)', async () => {
  const istio =
    '[2023-01-01T14:47:26.285Z] "GET /hello HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} - "delayed_connect_error:_111" 0 145 0 - "-" "curl/7.87.0-DEV" "35e82df8-1262-9404-8ad2-303b8613955c" "helloworld:5000" "10.1.2.31:5000" inbound|5000|| - 10.1.2.31:5000 172.16.9.8:5067 - default';
  const r = await runCli(['explain', istio]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^connect-refused {2}\(envoy\)/);
  expect(r.stdout).toContain('badgateway run --gateway envoy --only connect-refused');
  expect(r.stdout).toContain('retry_policy retry_on: connect-failure');
  expect(explainLine('[2026-11-24T10:00:00.000Z] "GET / HTTP/1.1" 504 UT 0 24 1001 - "-" "-" "r" "h" "10.0.0.2:80"')).toMatchObject({ gateway: 'envoy', info: { reason: 'read-timeout' } });
});

test('explain reads Traefik proxy errors: v2 "caused by", v3 JSON and console lines', async () => {
  const r = await runCli(['explain', "'502 Bad Gateway' caused by: dial tcp 10.0.0.7:80: connect: connection refused", '--json']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ gateway: 'traefik', reason: 'connect-refused' });
  expect(explainLine('2026-11-24T10:00:00Z DBG github.com/traefik/traefik/v3/pkg/proxy/httputil/proxy.go:187 > 504 Gateway Timeout error="net/http: timeout awaiting response headers"')).toMatchObject({ gateway: 'traefik', info: { reason: 'read-timeout' } });
  // --gateway reads the line as that gateway's: a JSON line with a Go error could be another Go gateway's.
  const json = '{"level":"debug","error":"EOF","time":"2026-11-24T10:00:00Z","caller":"github.com/traefik/traefik/v3/pkg/proxy/httputil/proxy.go:187","message":"502 Bad Gateway"}';
  const t = await runCli(['explain', '--gateway', 'traefik', json]);
  expect(t.code).toBe(0);
  expect(t.stdout).toMatch(/^upstream-closed-early {2}\(traefik\)/);
});
