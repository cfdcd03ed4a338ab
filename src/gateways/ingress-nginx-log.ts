/**
 * ingress-nginx's access-log lines, as `kubectl logs` of its controller prints them between the
 * nginx error-log lines: the controller's default `log-format-upstream` ("upstreaminfo"):
 *
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
 *   "$http_user_agent" $request_length $request_time [$proxy_upstream_name]
 *   [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
 *   $upstream_response_time $upstream_status $req_id
 *
 * (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/log-format/). The
 * error lines are nginx's own and the nginx adapter reads them as ever; an access line gives no
 * reason (its error line does) but names the request, its status and what the upstream answered.
 * Pure.
 */

export interface IngressAccessLine {
  readonly target: string;
  readonly status: number;
  /** `$proxy_upstream_name`: <namespace>-<service>-<port>. */
  readonly upstreamName: string;
  /** `$upstream_status`, as nginx writes it (`502`, `502, 502` after a retry, `-` when no upstream answered). */
  readonly upstreamStatus: string;
  /** `$req_id`: the X-Request-ID the controller forwarded (it generates one when the request has none). */
  readonly requestId: string;
}

const UPSTREAMINFO =
  /^\S+ - \S+ \[[^\]]+\] "[A-Z]+ (\S+) HTTP\/[\d.]+" (\d{3}) \d+ "[^"]*" "(?:[^"\\]|\\.)*" \d+ [\d.]+ \[([^\]]*)\] \[[^\]]*\] (.+) (\S+)$/;

/** The fields of an upstreaminfo line, or undefined when the line is not one. */
export function parseIngressAccessLine(line: string): IngressAccessLine | undefined {
  const m = UPSTREAMINFO.exec(line.trim());
  if (!m) return undefined;
  // After a retry the upstream fields are lists ("502, 502"): the status list ends the upstream part.
  const upstreamStatus = /((?:\d{3}|-)(?:, (?:\d{3}|-))*)$/.exec(m[4]!)?.[1] ?? '-';
  return { target: m[1]!, status: Number(m[2]), upstreamName: m[3]!, upstreamStatus, requestId: m[5]! };
}
