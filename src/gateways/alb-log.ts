/**
 * AWS Application Load Balancer access-log entries: every field AWS documents, in order, read
 * from one line; fields AWS appends later are ignored, as its reference asks of parsers. Pure.
 *
 * Source: AWS, "Access logs for your Application Load Balancer", section "Access log entries"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html).
 */

/** The fields of an entry, in the order AWS writes them. Quoted ones are written here without their quotes. */
export const ALB_LOG_FIELDS = [
  'type',
  'time',
  'elb',
  'client:port',
  'target:port',
  'request_processing_time',
  'target_processing_time',
  'response_processing_time',
  'elb_status_code',
  'target_status_code',
  'received_bytes',
  'sent_bytes',
  'request',
  'user_agent',
  'ssl_cipher',
  'ssl_protocol',
  'target_group_arn',
  'trace_id',
  'domain_name',
  'chosen_cert_arn',
  'matched_rule_priority',
  'request_creation_time',
  'actions_executed',
  'redirect_url',
  'error_reason',
  'target:port_list',
  'target_status_code_list',
  'classification',
  'classification_reason',
  'conn_trace_id',
] as const;

export type AlbLogField = (typeof ALB_LOG_FIELDS)[number];

/** The request or connection types AWS lists for the `type` field. */
const TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);

export interface AlbLogRecord {
  /** Every field the line has, by name (`-` kept as written); fields past the known ones are dropped. */
  readonly fields: Readonly<Partial<Record<AlbLogField, string>>>;
  readonly elbStatus: number | undefined;
  /** Undefined when it is `-`: the target never sent a response. */
  readonly targetStatus: number | undefined;
  /** Seconds; -1 where AWS writes -1 (the request was not dispatched, or the target did not answer). */
  readonly requestProcessingTime: number;
  readonly targetProcessingTime: number;
  readonly responseProcessingTime: number;
  /** Path and query of the request URL (`/s/empty-reply/?bgp=3`), for attribution. */
  readonly target: string | undefined;
  /** The X-Amzn-Trace-Id the request carried (`Root=1-...`), undefined when `-`. */
  readonly traceId: string | undefined;
}

/** Space-separated fields; a double-quoted field may hold spaces (and backslash escapes). */
function tokens(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function seconds(s: string | undefined): number {
  const n = Number(s);
  return s === undefined || s === '-' || Number.isNaN(n) ? -1 : n;
}

function status(s: string | undefined): number | undefined {
  return s !== undefined && /^\d{3}$/.test(s) ? Number(s) : undefined;
}

/** The path and query of "GET http://host:80/s/x/?bgp=1 HTTP/1.1". */
function requestTarget(request: string | undefined): string | undefined {
  const url = request?.split(' ')[1];
  if (!url || url === '-') return undefined;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url.startsWith('/') ? url : undefined;
  }
}

/** An ALB access-log entry, or undefined when the line is not one (too few fields, another type, no ISO time). */
export function parseAlbLogLine(line: string): AlbLogRecord | undefined {
  const t = tokens(line.trim());
  if (t.length < 13 || !TYPES.has(t[0]!) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(t[1]!)) return undefined;
  const fields: Partial<Record<AlbLogField, string>> = {};
  ALB_LOG_FIELDS.forEach((name, i) => {
    if (i < t.length) fields[name] = t[i]!;
  });
  const elbStatus = status(fields.elb_status_code);
  if (elbStatus === undefined && fields.elb_status_code !== '-') return undefined;
  const trace = fields.trace_id;
  return {
    fields,
    elbStatus,
    targetStatus: status(fields.target_status_code),
    requestProcessingTime: seconds(fields.request_processing_time),
    targetProcessingTime: seconds(fields.target_processing_time),
    responseProcessingTime: seconds(fields.response_processing_time),
    target: requestTarget(fields.request),
    traceId: trace === undefined || trace === '-' ? undefined : trace,
  };
}
