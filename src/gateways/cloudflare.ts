/**
 * Cloudflare: a profile, not a gateway badgateway starts. The chaos upstream is deployed as the
 * origin of a proxied hostname (or behind a Cloudflare Tunnel: deploy/README.md), and the run
 * drives the real edge with `--runtime external`. Pure.
 *
 * Cloudflare answers an origin failure with a status of its own (520 to 526, documented one page
 * each under "Cloudflare 5xx errors"), so the status is most of the evidence; Logpush's
 * HTTP-request records (one JSON object per line) add what the origin answered
 * (OriginResponseStatus, 0 when the edge got no response) and the request's Ray ID, which the
 * client also sees in the CF-Ray response header: the probe records it (Outcome.cfRay, src/probe/http-probe.ts) so a
 * report can be joined with the Logpush records.
 */
import type { GatewayAdapter, LogEntry, ReasonInfo, RenderInput, RenderedConfig } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';
import { externalOnly } from './profile.js';

const DOCS = 'https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors';
/** Each 5xx Cloudflare generates, with the page that documents it: the `documented:` of the scenarios' cloudflare expectations. */
export const CLOUDFLARE_DOC = {
  520: `Cloudflare, Error 520: web server returns an unknown error ${DOCS}/error-520/`,
  521: `Cloudflare, Error 521: web server is down ${DOCS}/error-521/`,
  522: `Cloudflare, Error 522: connection timed out ${DOCS}/error-522/`,
  524: `Cloudflare, Error 524: a timeout occurred ${DOCS}/error-524/`,
  525: `Cloudflare, Error 525: SSL handshake failed ${DOCS}/error-525/`,
  526: `Cloudflare, Error 526: invalid SSL certificate ${DOCS}/error-526/`,
  '502-504': `Cloudflare, Error 502 or 504 ${DOCS}/error-502-504/`,
  logpush: 'Cloudflare, Log fields: HTTP requests https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/',
} as const;

/** A Logpush HTTP-request record (fields of the http_requests dataset; a job chooses which it sends). */
export interface LogpushRecord {
  readonly RayID?: string;
  readonly EdgeResponseStatus?: number;
  /** 0 when no request reached the origin, or none answered. */
  readonly OriginResponseStatus?: number;
  readonly ClientRequestURI?: string;
  readonly ClientRequestMethod?: string;
  readonly ClientRequestHost?: string;
  readonly [field: string]: unknown;
}

/** The record on a Logpush line (newline-delimited JSON), or undefined when the line is not one. */
export function parseLogpushLine(line: string): LogpushRecord | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  return typeof r.EdgeResponseStatus === 'number' ? (r as LogpushRecord) : undefined;
}

/** A record as Logpush writes one (field names of the http_requests dataset), for examples and tests. */
export function logpushExampleLine(edge: number, origin: number, uri = '/'): string {
  return JSON.stringify({
    ClientRequestHost: 'www.example.com',
    ClientRequestMethod: 'GET',
    ClientRequestURI: uri,
    EdgeEndTimestamp: '2026-12-01T22:23:01Z',
    EdgeResponseStatus: edge,
    EdgeStartTimestamp: '2026-12-01T22:23:00Z',
    OriginIP: '203.0.113.10',
    OriginResponseStatus: origin,
    RayID: '8a1b2c3d4e5f6a7b',
  });
}

const REASONS = [
  {
    reason: 'invalid-response',
    meaning: 'Cloudflare answered 520: the origin returned an empty, unknown or unexpected response.',
    causes: ['the origin closed the connection without a response (a crashed worker)', 'a response without a valid status line', 'response headers over 128 KB', 'an origin that accepts HTTP/2 and does not speak it'],
    directives: ['HTTP/2 to Origin (Speed > Optimization > Protocol Optimization)'],
    scenarios: ['empty-reply', 'garbage-status-line', 'http09-reply'],
    example: logpushExampleLine(520, 0),
  },
  {
    reason: 'connect-refused',
    meaning: 'Cloudflare answered 521: the origin refused the connection.',
    causes: ['the origin web server is not running', "a firewall at the origin rejects Cloudflare's IP ranges"],
    directives: ["the origin's firewall allow-list of Cloudflare IP ranges"],
    scenarios: ['connect-refused'],
    example: logpushExampleLine(521, 0),
  },
  {
    reason: 'connect-timeout',
    meaning: "Cloudflare answered 522: the origin did not answer the SYN within 19 s, or did not acknowledge the request within 90 s after connecting.",
    causes: ["a firewall that drops Cloudflare's packets", 'an overloaded origin whose listen queue is full', 'a DNS record pointing at the wrong origin IP'],
    directives: ["the origin's firewall and listen backlog"],
    scenarios: ['accept-queue-full'],
    example: logpushExampleLine(522, 0),
  },
  {
    reason: 'read-timeout',
    meaning: 'Cloudflare answered 524: it connected to the origin, but no HTTP response came within the Proxy Read Timeout (120 s by default).',
    causes: ['a long-running request at the origin', 'an overloaded origin'],
    directives: ['Proxy Read Timeout (Enterprise: Cache Rule or the proxy_read_timeout zone setting, up to 6,000 s)'],
    scenarios: ['never-respond'],
    example: logpushExampleLine(524, 0),
  },
  {
    reason: 'tls-handshake-failed',
    meaning: 'Cloudflare answered 525: the TLS handshake with the origin failed (SSL/TLS mode Full or Full (strict)).',
    causes: ['no shared cipher suite or protocol version', 'the origin presents no certificate for the name Cloudflare sends as SNI', 'the origin does not listen for TLS on 443'],
    directives: ['SSL/TLS encryption mode', "the origin's TLS configuration"],
    scenarios: [],
    example: logpushExampleLine(525, 0),
  },
  {
    reason: 'tls-cert-invalid',
    meaning: "Cloudflare answered 526: with SSL/TLS mode Full (strict) it could not validate the origin's certificate.",
    causes: ['an expired certificate', 'a certificate for another name', 'a self-signed or privately signed certificate (not a Cloudflare Origin CA one)'],
    directives: ['SSL/TLS encryption mode Full (strict)', 'Cloudflare Origin CA certificates'],
    scenarios: [],
    example: logpushExampleLine(526, 0),
  },
] as const satisfies readonly ReasonInfo[];

type CloudflareReason = (typeof REASONS)[number]['reason'];

/** Cloudflare's own 5xx statuses, by what they say about the origin (523 and 530 say nothing the suite reproduces). */
const BY_STATUS: Readonly<Record<number, CloudflareReason>> = {
  520: 'invalid-response',
  521: 'connect-refused',
  522: 'connect-timeout',
  524: 'read-timeout',
  525: 'tls-handshake-failed',
  526: 'tls-cert-invalid',
};

/** The reason a Logpush record gives: only Cloudflare's own origin-error statuses name one; an origin's own 502/504 passed on does not. */
export function cloudflareReason(r: LogpushRecord): CloudflareReason | undefined {
  return r.EdgeResponseStatus === undefined ? undefined : BY_STATUS[r.EdgeResponseStatus];
}

function parseLogLine(line: string): LogEntry<CloudflareReason> | undefined {
  const r = parseLogpushLine(line);
  if (!r) return undefined;
  const reason = cloudflareReason(r);
  return {
    raw: line,
    level: (r.EdgeResponseStatus ?? 0) >= 500 ? 'error' : 'info',
    ...(reason ? { reason } : {}),
    ...(typeof r.ClientRequestURI === 'string' ? { target: r.ClientRequestURI } : {}),
    ...(typeof r.RayID === 'string' ? { connection: r.RayID } : {}),
  };
}

/**
 * A cloudflared ingress sketch for this route table: each route's path to the origin that serves
 * it, the readiness path answered by cloudflared itself. For reading, never run by badgateway.
 */
function render(input: RenderInput): RenderedConfig {
  const rules = input.routes.flatMap((r) =>
    r.target.kind === 'tcp' ? [`  - hostname: badgateway.example.com\n    path: ^${routePath(r.id)}\n    service: http://${r.target.host}:${r.target.port}`] : [],
  );
  const text = [
    '# cloudflared tunnel ingress for this suite (for reading; badgateway never runs it). deploy/README.md shows the whole setup.',
    'tunnel: <tunnel id>',
    'credentials-file: <path to the tunnel credentials>',
    'ingress:',
    `  - hostname: badgateway.example.com\n    path: ^${READY_PATH}$\n    service: http_status:200`,
    ...rules,
    '  - service: http_status:404',
    '',
  ].join('\n');
  return { files: { 'cloudflared.yml': text }, main: 'cloudflared.yml' };
}

const cloudflare: GatewayAdapter = {
  id: 'cloudflare',
  ...externalOnly(
    'cloudflare',
    "Cloudflare's edge cannot run here: deploy the chaos upstream as the origin of a proxied hostname or behind a Cloudflare Tunnel (deploy/README.md), and drive the real edge.",
  ),
  // Cloudflare's answers say `Server: cloudflare` and no version.
  parseVersion: () => undefined,
  render,
  logFiles: ['logpush.jsonl'],
  parseLogLine,
  reasons: REASONS,
  supportsFastcgi: false,
  supportsPools: false,
};

export default cloudflare;
