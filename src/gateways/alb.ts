/**
 * AWS Application Load Balancer: a profile, not a gateway badgateway starts. Nobody can run an
 * ALB on a laptop, so the chaos upstream is deployed as the ALB's target (deploy/alb/) and the
 * run drives the real ALB with `--runtime external`. Pure.
 *
 * Its evidence is the access log (S3, minutes after the fact; `badgateway judge` reads it later),
 * one entry per request: the ALB's status and the target's, and three processing times that are
 * -1 where the target never answered (src/gateways/alb-log.ts). The entry carries the request URL
 * (?bgp=<n> attributes it) and the X-Amzn-Trace-Id the probe sent (trace_id).
 *
 * The reasons below read AWS's field definitions ("Access log entries") against its list of
 * causes ("The load balancer generates an HTTP error"): an entry does not name its cause, so a
 * reason here says only what the fields can tell apart.
 */
import { parseAlbLogLine, type AlbLogRecord } from './alb-log.js';
import type { GatewayAdapter, GatewayRoute, LogEntry, ReasonInfo, RenderInput, RenderedConfig } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';
import { externalOnly } from './profile.js';

/** Where AWS documents what the access log's fields mean. */
export const ALB_ACCESS_LOG_DOC = 'AWS, Access logs for your Application Load Balancer https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html';
/** Where AWS lists the causes of each status the ALB generates. */
export const ALB_TROUBLESHOOTING_DOC = 'AWS, Troubleshoot your Application Load Balancers https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html';

/**
 * An entry as AWS's own examples write it (the HTTP listener example of the access-log page), on
 * one line, with the times and statuses given.
 */
export function albExampleLine(times: string, statuses: string, path = '/'): string {
  return (
    `http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 ${times} ${statuses} 34 366 ` +
    `"GET http://www.example.com:80${path} HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 ` +
    `"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "-" "-" "-"`
  );
}

const DIRECTIVES = {
  idle: 'idle_timeout.timeout_seconds (load balancer attribute, default 60 s)',
  deregistration: 'deregistration_delay.timeout_seconds (target group attribute)',
  health: 'health check path, interval and thresholds (target group)',
  dropInvalid: 'routing.http.drop_invalid_header_fields.enabled (load balancer attribute)',
};

const REASONS = [
  {
    reason: 'upstream-failed-before-response',
    meaning: 'The ALB answered 502 itself (target_status_code -) and every processing time is -1: it could not dispatch the request, or the target closed the connection before answering. The entry does not say which.',
    causes: [
      'the target refused the connection with a TCP RST (nothing listens on the target port)',
      'the target closed the connection with a FIN or RST while the ALB had a request outstanding: its keep-alive timeout is shorter than the ALB idle timeout',
      'the target died after reading the request (a crashed worker)',
    ],
    directives: [DIRECTIVES.idle, 'the target\'s own keep-alive timeout (keep it above the ALB idle timeout)'],
    scenarios: ['connect-refused', 'reset-on-accept', 'close-on-accept', 'empty-reply', 'reset-after-request'],
    example: albExampleLine('-1 -1 -1', '502 -'),
  },
  {
    reason: 'invalid-response',
    meaning: 'The ALB answered 502 itself (target_status_code -) after the target began to answer (target_processing_time set): the response was malformed or carried headers that are not valid.',
    causes: ['a malformed status line or a reply that is not HTTP/1.x', 'a response header the ALB refuses (no colon, a bad character)'],
    directives: [DIRECTIVES.dropInvalid],
    scenarios: ['garbage-status-line', 'http09-reply'],
    example: albExampleLine('0.000 0.001 -1', '502 -'),
  },
  {
    reason: 'read-timeout',
    meaning: 'The ALB answered 504 itself (target_status_code -) after it had dispatched the request: the target did not answer before the idle timeout, or sent fewer body bytes than its Content-Length.',
    causes: ['a stuck target that reads the request and never answers', 'a response shorter than its Content-Length, the connection left open', 'a network ACL that drops the target\'s replies on the ephemeral ports'],
    directives: [DIRECTIVES.idle],
    scenarios: ['never-respond', 'body-short-hold-open'],
    example: albExampleLine('0.001 -1 -1', '504 -'),
  },
  {
    reason: 'connect-timeout',
    meaning: 'The ALB answered 504 itself and could not dispatch the request (request_processing_time -1): the connection to the target was not established within its 10 s connect timeout.',
    causes: ['a target that does not answer the SYN (a security group or network ACL drops it, or the listen queue is full)'],
    directives: ['target security group and network ACLs'],
    scenarios: ['accept-queue-full'],
    example: albExampleLine('-1 -1 -1', '504 -'),
  },
  {
    reason: 'no-live-upstreams',
    meaning: 'The ALB answered 503 itself (target_status_code -): the target group has no registered targets. (With registered targets that are all unhealthy the ALB fails open and sends to them all.)',
    causes: ['every target was deregistered (a deploy that drained them all, an empty Auto Scaling group)', 'a listener rule forwards to an empty target group'],
    directives: [DIRECTIVES.health, DIRECTIVES.deregistration],
    scenarios: [],
    example: albExampleLine('-1 -1 -1', '503 -'),
  },
  {
    reason: 'client-closed',
    meaning: 'The ALB logged 460: the client closed its connection before the ALB answered, before the idle timeout elapsed. Whatever the target would have done is not in the entry.',
    causes: ['a client timeout shorter than the time the target takes (or than the ALB idle timeout)'],
    directives: [DIRECTIVES.idle, "the client's own timeout"],
    scenarios: [],
    example: albExampleLine('0.000 -1 -1', '460 -'),
  },
] as const satisfies readonly ReasonInfo[];

type AlbReason = (typeof REASONS)[number]['reason'];

/** The reason an entry gives, from the ALB's status, the target's, and which processing times are -1. */
export function albReason(r: AlbLogRecord): AlbReason | undefined {
  // The target answered: whatever the status, it was the target's.
  if (r.targetStatus !== undefined) return undefined;
  const lambda = (r.fields.error_reason ?? '-').startsWith('Lambda');
  switch (r.elbStatus) {
    case 460:
      return 'client-closed';
    case 503:
      return 'no-live-upstreams';
    case 502:
      if (lambda) return undefined;
      return r.targetProcessingTime < 0 ? 'upstream-failed-before-response' : 'invalid-response';
    case 504:
      if (lambda) return undefined;
      return r.requestProcessingTime < 0 ? 'connect-timeout' : 'read-timeout';
    default:
      return undefined;
  }
}

function parseLogLine(line: string): LogEntry<AlbReason> | undefined {
  const r = parseAlbLogLine(line);
  if (!r) return undefined;
  const reason = albReason(r);
  const level = r.elbStatus !== undefined && (r.elbStatus >= 500 || r.elbStatus === 460) ? 'error' : 'info';
  return { raw: line, level, ...(reason ? { reason } : {}), ...(r.target ? { target: r.target } : {}), ...(r.traceId ? { requestId: r.traceId } : {}) };
}

/** The ALB's own answers name it `awselb/2.0` in their Server header; that is the only version it gives. */
function parseVersion(output: string): string | undefined {
  const m = /awselb\/(\d+\.\d+(?:\.\d+)?)/.exec(output);
  return m?.[1];
}

function tfName(id: string): string {
  return id.replace(/[^a-z0-9]/g, '_');
}

/**
 * A Terraform sketch of what the ALB needs for this route table: a listener on the listen port,
 * a fixed 200 for the readiness path, one target group per route target with its health check,
 * and a rule forwarding each route's path there. For reading, never applied by badgateway;
 * deploy/alb/ is the complete example.
 */
function render(input: RenderInput): RenderedConfig {
  const targets = new Map<string, GatewayRoute['target']>();
  for (const r of input.routes) if (r.target.kind === 'tcp') targets.set(`${r.target.host}:${r.target.port}`, r.target);
  const groupOf = (r: GatewayRoute) => (r.target.kind === 'tcp' ? `tg_${tfName(`${r.target.host}_${r.target.port}`)}` : undefined);
  const groups = [...targets.entries()].map(([key, t]) => {
    const name = `tg_${tfName(key.replace(':', '_'))}`;
    const port = t.kind === 'tcp' ? t.port : 0;
    const host = t.kind === 'tcp' ? t.host : '';
    return [
      `resource "aws_lb_target_group" "${name}" {`,
      `  port        = ${port}`,
      '  protocol    = "HTTP"',
      '  target_type = "ip"',
      '  vpc_id      = var.vpc_id',
      '  health_check {',
      '    path    = "/healthz"',
      '    matcher = "200"',
      '  }',
      '}',
      `resource "aws_lb_target_group_attachment" "${name}" {`,
      `  target_group_arn = aws_lb_target_group.${name}.arn`,
      `  target_id        = "${host}"`,
      `  port             = ${port}`,
      '}',
    ].join('\n');
  });
  const rules = input.routes
    .filter((r) => groupOf(r) !== undefined)
    .map((r, i) =>
      [
        `resource "aws_lb_listener_rule" "r_${tfName(r.id)}" {`,
        '  listener_arn = aws_lb_listener.badgateway.arn',
        `  priority     = ${i + 2}`,
        `  action {\n    type             = "forward"\n    target_group_arn = aws_lb_target_group.${groupOf(r)}.arn\n  }`,
        `  condition {\n    path_pattern { values = ["${routePath(r.id)}*"] }\n  }`,
        '}',
      ].join('\n'),
    );
  const main = [
    '# What an ALB needs to route this suite (for reading; badgateway never applies it). deploy/alb/ is the complete example.',
    'variable "vpc_id" { type = string }',
    'variable "load_balancer_arn" { type = string }',
    'resource "aws_lb_listener" "badgateway" {',
    '  load_balancer_arn = var.load_balancer_arn',
    `  port              = ${input.listen.port}`,
    '  protocol          = "HTTP"',
    '  default_action {\n    type = "fixed-response"\n    fixed_response {\n      content_type = "text/plain"\n      status_code  = "404"\n    }\n  }',
    '}',
    // The readiness path is the gateway's own answer, never the upstream's.
    'resource "aws_lb_listener_rule" "ready" {',
    '  listener_arn = aws_lb_listener.badgateway.arn',
    '  priority     = 1',
    '  action {\n    type = "fixed-response"\n    fixed_response {\n      content_type = "text/plain"\n      status_code  = "200"\n    }\n  }',
    `  condition {\n    path_pattern { values = ["${READY_PATH}"] }\n  }`,
    '}',
    ...groups,
    ...rules,
    '',
  ].join('\n');
  return { files: { 'alb.tf': main }, main: 'alb.tf' };
}

const alb: GatewayAdapter = {
  id: 'alb',
  ...externalOnly(
    'alb',
    'Nobody can run an AWS Application Load Balancer here: deploy the chaos upstream as its target (deploy/alb/README.md: badgateway serve --suite in a container, a target group with its health check on /healthz, a listener rule), and drive your real ALB.',
  ),
  versionExample: 'Server: awselb/2.0',
  parseVersion,
  render,
  logFiles: ['access.log'],
  parseLogLine,
  reasons: REASONS,
  supportsFastcgi: false,
  supportsPools: false,
};

export default alb;
