/**
 * The normalized reasons: one vocabulary every gateway adapter maps its log lines to, so a
 * scenario can expect `upstream-reset` from nginx and from Envoy alike. Each adapter's
 * `ReasonInfo.meaning` says how that gateway shows the reason; the meaning here is what
 * the reason says about the upstream, whichever gateway logged it.
 *
 * A new reason is a line here: `Reason` is derived from this table, so an adapter (or a
 * scenario, checked when it is loaded) that names a reason missing here does not get through.
 */
export const REASONS = {
  'connect-refused': 'nothing accepted the connection: the upstream address refused it (or the unix socket file is missing).',
  'connect-timeout': 'the connection to the upstream was not established in time: the TCP handshake did not complete.',
  'connect-queue-full': "the upstream's listen queue was full: connect() to its unix socket failed at once (EAGAIN), as to a PHP-FPM pool whose workers are all busy and whose listen.backlog is used up.",
  'connect-failed': 'the connection to the upstream failed, and the gateway does not say whether it was refused or timed out.',
  'send-timeout': 'the upstream did not take the request (or its body) in time.',
  'read-timeout': 'the upstream sent nothing for longer than the gateway waits, before the response head or in the middle of the body.',
  'upstream-reset': 'the upstream reset the connection (RST) while the gateway sent the request or read the response.',
  'upstream-closed-early': 'the upstream closed the connection before a complete response head.',
  'upstream-truncated': 'the upstream closed the connection in the middle of the body, after the head had been relayed.',
  'upstream-extra-data': 'the upstream sent more body bytes than its framing announced.',
  'header-too-big': "the response head (or one header) was larger than the gateway's buffer or limit.",
  'invalid-header': 'the response head has a header line the gateway refuses (no colon, bad characters, conflicting framing headers).',
  'duplicate-header': 'the response repeats a header that must be unique, such as two Content-Length values.',
  'invalid-status': 'the status line is malformed.',
  'no-valid-http': 'the reply is not HTTP/1.x at all: no status line (HTTP/0.9, TLS, HTTP/2 or another protocol on the port).',
  'invalid-chunked': 'the chunked body is malformed.',
  'invalid-upgrade': 'the upstream answered a WebSocket upgrade with a response that does not complete it (101 without the Upgrade header).',
  'no-live-upstreams': 'the gateway had no usable upstream server to try: every one is marked down, or its name never resolved.',
  'dns-nxdomain': 'the upstream name does not exist (NXDOMAIN), or has no address record.',
  'dns-servfail': 'the resolver answered SERVFAIL for the upstream name.',
  'dns-refused': 'the resolver refused the query for the upstream name.',
  'dns-timeout': 'the resolver did not answer in time.',
  'dns-failed': 'the upstream name could not be resolved, for a reason the gateway does not tell apart.',
  'fastcgi-invalid-record': 'the FastCGI backend sent a record the gateway cannot read: a version other than 1, an unknown type, or a record out of place (END_REQUEST before any STDOUT).',
  'fastcgi-stderr': 'the FastCGI backend wrote to FastCGI stderr (PHP warnings and errors); the response itself may still be fine.',
  'upstream-failed-before-response': "the upstream refused the connection, or closed or reset it before any response head, and the gateway's log does not say which (an ALB 502 with every processing time -1 and target status -).",
  'invalid-response': "the upstream's response was empty, malformed or otherwise unusable, and the gateway's log does not say how (a Cloudflare 520; an ALB 502 after the target began its response).",
  'client-closed': 'the client closed its connection before the gateway answered (ALB 460, nginx 499): no upstream fault, but it hides what the upstream would have done.',
  'tls-handshake-failed': 'the TLS handshake with the upstream failed (no shared protocol or cipher, an alert, a reset or close mid-handshake).',
  'tls-cert-invalid': "the upstream's certificate was refused (expired, untrusted, or for another name), and the gateway's log does not say which (a Cloudflare 526).",
  'h2-stream-reset': 'the HTTP/2 upstream reset the request\'s stream (RST_STREAM) before or during the response.',
  'h2-goaway': 'the HTTP/2 upstream sent GOAWAY and the request\'s stream was left unanswered.',
  'h2-protocol-error': 'the HTTP/2 upstream broke the protocol (a malformed header block, a setting or window out of range), and the gateway\'s HTTP/2 client gave up on the stream or the connection.',
  'fastcgi-primary-script-unknown': 'PHP-FPM found no script at SCRIPT_FILENAME ("Primary script unknown" in FastCGI stderr) and answered 404 "File not found.".',
  'tls-cert-expired': 'the upstream certificate is outside its validity period: expired, or not valid yet.',
  'tls-cert-untrusted': 'the upstream certificate does not chain to a CA the gateway trusts: self-signed, or signed by a CA it was not given.',
  'tls-name-mismatch': 'the upstream certificate is not issued for the name (or IP address) the gateway checks it against.',
  'tls-protocol-mismatch': 'the gateway and the upstream share no TLS version (or no cipher or signature algorithm the gateway allows).',
} as const;

/** A normalized reason: a key of REASONS. */
export type Reason = keyof typeof REASONS;

/**
 * What a scenario may expect: a reason, or `none`: no log line that names the request carries
 * a reason. `none` is a scenario keyword, not a reason: no adapter reports it.
 */
export type ExpectedReason = Reason | 'none';

export const REASON_IDS: readonly Reason[] = Object.keys(REASONS) as Reason[];

export function isReason(s: string): s is Reason {
  return Object.hasOwn(REASONS, s);
}
