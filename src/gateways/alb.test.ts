import { describe, expect, test } from 'vitest';
import { explainLine } from './explain.js';
import { ALB_LOG_FIELDS, parseAlbLogLine } from './alb-log.js';
import alb, { albExampleLine } from './alb.js';
import { runtimeRefusal } from './profile.js';

/**
 * AWS's own example entries ("Access logs for your Application Load Balancer", Examples), each
 * joined onto one line as the log files have them (the page breaks them only to be readable).
 */
const AWS_HTTP =
  'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.0.1:80 200 "-" "-"';
const AWS_HTTPS =
  'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" 10.0.0.1:80 200 "-" "-"';
const AWS_LAMBDA_FAILED =
  'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"';

describe('ALB access-log entries', () => {
  test("AWS's example entries parse field by field", () => {
    const r = parseAlbLogLine(AWS_HTTPS)!;
    expect(r.elbStatus).toBe(200);
    expect(r.targetStatus).toBe(200);
    expect([r.requestProcessingTime, r.targetProcessingTime, r.responseProcessingTime]).toEqual([0.086, 0.048, 0.037]);
    expect(r.fields.request).toBe('GET https://www.example.com:443/ HTTP/1.1');
    expect(r.fields.user_agent).toBe('curl/7.46.0');
    expect(r.fields.ssl_protocol).toBe('TLSv1.2');
    expect(r.fields.domain_name).toBe('www.example.com');
    expect(r.fields.actions_executed).toBe('authenticate,forward');
    expect(r.fields.request_creation_time).toBe('2018-07-02T22:22:48.364000Z');
    expect(r.traceId).toBe('Root=1-58337281-1d84f3d73c47ec4e58577259');
    expect(r.target).toBe('/');
    // A healthy exchange gives no reason: the target answered.
    expect(alb.parseLogLine(AWS_HTTP)).toMatchObject({ level: 'info', target: '/' });
    expect(alb.parseLogLine(AWS_HTTP)!.reason).toBeUndefined();
  });

  test('fields AWS appends later are ignored; a line of an older format (without the trailing lists) still parses', () => {
    const newer = `${AWS_HTTP} "TID_1234" "new-field" another`;
    const r = parseAlbLogLine(newer)!;
    expect(Object.keys(r.fields)).toEqual([...ALB_LOG_FIELDS]);
    expect(r.fields.conn_trace_id).toBe('TID_1234');
    expect(alb.parseLogLine(newer)?.target).toBe('/');
    const older = AWS_HTTP.split(' "-" 0 2018')[0]!;
    expect(parseAlbLogLine(older)?.elbStatus).toBe(200);
  });

  test('502 with every processing time -1 and target status -: the target never answered', () => {
    const line = albExampleLine('-1 -1 -1', '502 -', '/s/empty-reply/?bgp=7');
    expect(alb.parseLogLine(line)).toMatchObject({ level: 'error', reason: 'upstream-failed-before-response', target: '/s/empty-reply/?bgp=7' });
    const ex = explainLine(line)!;
    expect(ex.gateway).toBe('alb');
    expect(ex.info.scenarios).toContain('connect-refused');
  });

  test('504 after dispatch is a read timeout; 504 never dispatched a connect timeout; 503 no targets; 460 the client left', () => {
    expect(explainLine(albExampleLine('0.001 -1 -1', '504 -'))?.info.reason).toBe('read-timeout');
    expect(explainLine(albExampleLine('-1 -1 -1', '504 -'))?.info.reason).toBe('connect-timeout');
    expect(explainLine(albExampleLine('-1 -1 -1', '503 -'))?.info.reason).toBe('no-live-upstreams');
    expect(explainLine(albExampleLine('0.000 -1 -1', '460 -'))?.info.reason).toBe('client-closed');
    expect(explainLine(albExampleLine('0.000 0.001 -1', '502 -'))?.info.reason).toBe('invalid-response');
  });

  test("a target's own 5xx and a Lambda failure give no upstream reason", () => {
    expect(alb.parseLogLine(albExampleLine('0.000 0.010 0.000', '502 502'))?.reason).toBeUndefined();
    expect(alb.parseLogLine(AWS_LAMBDA_FAILED)).toMatchObject({ level: 'error' });
    expect(alb.parseLogLine(AWS_LAMBDA_FAILED)?.reason).toBeUndefined();
    expect(parseAlbLogLine(AWS_LAMBDA_FAILED)?.fields.error_reason).toBe('LambdaInvalidResponse');
  });

  test('lines of other gateways are not ALB entries', () => {
    expect(parseAlbLogLine('2026/11/24 10:00:00 [error] 7#7: *3 upstream timed out')).toBeUndefined();
    expect(parseAlbLogLine('http not-a-time app/x 1.2.3.4:1 - -1 -1 -1 502 - 0 0 "GET / HTTP/1.1"')).toBeUndefined();
  });

  test('the ALB names its version only as awselb/2.0 in its Server header', () => {
    expect(alb.parseVersion('Server: awselb/2.0')).toBe('2.0');
    expect(alb.parseVersion('nginx/1.22.1')).toBeUndefined();
  });
});

describe('the alb profile runs only with the external runtime', () => {
  test('process, container and auto are refused with one paragraph that says what to run', () => {
    for (const rt of ['process', 'container', 'auto']) {
      const why = runtimeRefusal(alb, rt)!;
      expect(why).toMatch(/^alb runs only with --runtime external/);
      expect(why).toContain('deploy/alb/README.md');
      expect(why).toContain('badgateway run --gateway alb --runtime external --url');
      expect(why.split('\n')).toHaveLength(1);
    }
    expect(runtimeRefusal(alb, 'external')).toBeUndefined();
  });

  test('every documented reason has an example the parser reads back (AWS example entry, times and statuses as documented)', () => {
    for (const r of alb.reasons) expect(alb.parseLogLine(r.example!)?.reason, r.reason).toBe(r.reason);
  });
});
