/**
 * Response bytes, built exactly as asked: no validation, because the point is to
 * send what a broken backend sends. Pure.
 */

export type HeaderList = ReadonlyArray<readonly [string, string | number]>;
/** Headers as a map (the common case) or as a list of pairs (duplicates, order). */
export type HeadersInput = Readonly<Record<string, string | number>> | HeaderList;

export interface HeadSpec {
  readonly version?: string;
  readonly status: number;
  readonly reason?: string;
  readonly headers?: HeadersInput;
}

const REASONS: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  426: 'Upgrade Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

export function headerPairs(h: HeadersInput | undefined): HeaderList {
  if (h === undefined) return [];
  if (Array.isArray(h)) return h as HeaderList;
  return Object.entries(h as Record<string, string | number>);
}

export function hasHeader(h: HeadersInput | undefined, name: string): boolean {
  const lower = name.toLowerCase();
  return headerPairs(h).some(([n]) => n.toLowerCase() === lower);
}

export function buildHead(spec: HeadSpec): Buffer {
  let s = `${spec.version ?? 'HTTP/1.1'} ${spec.status} ${spec.reason ?? reasonPhrase(spec.status)}\r\n`;
  for (const [n, v] of headerPairs(spec.headers)) s += `${n}: ${v}\r\n`;
  return Buffer.from(s + '\r\n', 'latin1');
}
