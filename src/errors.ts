/**
 * Every error badgateway throws on purpose carries a stable `code`. The CLI maps
 * them to exit codes in one place (src/cli/main.ts); a user error prints its
 * message, never a stack.
 */

/**
 * Every stable error code, with what it means and what to do. A code is an API: scripts match
 * on it, so a code is never renamed or reused for something else. src/errors.test.ts fails
 * when the code uses a `BG_*` literal that is not listed here, or lists one nothing uses.
 */
export const ERROR_CODES = {
  // The command line and options given through the API.
  BG_USAGE: 'the command line does not parse (unknown command or option, missing value); run `badgateway --help`',
  BG_BAD_FLAG: "a command-line option's value is wrong (a port, a number, a route spec, an image with a runtime that has none); the message names the option and what it takes",
  BG_BAD_OPTION: 'an option given through the API is wrong (no gateway, one named twice, a concurrency below 1, a listener fault that was not started)',
  BG_FILE_UNREADABLE: 'a file that was named cannot be read (fault file, scenario, gateway config); check the path',
  BG_YAML_SYNTAX: 'a YAML file does not parse; the message gives file:line:column',
  BG_FILE_TOO_LARGE: 'a scenario, fault or list file is larger than the limit (1 MiB, BADGATEWAY_MAX_INPUT_BYTES); refused before it is read. Split it, or raise the limit',
  BG_YAML_LIMIT: 'a YAML file has more values than the limit (20,000, BADGATEWAY_MAX_INPUT_VALUES) or nests deeper than 100 levels; the message gives file:line:column',
  BG_YAML_ALIAS: 'a YAML alias (*name) names no anchor, sits inside the node its anchor marks, or repeats so much that the file, aliases written out, is over the limits (a "billion laughs"); file:line:column',
  BG_BAD_ENV: 'an environment variable badgateway reads has a value it cannot use (BADGATEWAY_MAX_INPUT_BYTES, BADGATEWAY_MAX_INPUT_VALUES); the message says what it takes',
  BG_RUNTIME_UNSUPPORTED: 'the gateway cannot run with that runtime: a profile of a gateway badgateway cannot start (alb, cloudflare) runs only with --runtime external; the message says how to run it',
  BG_REPORT_PATH: "a --reporter file cannot be written there (a folder that does not exist, a folder given as the file, no permission); checked before anything starts, the message says what to write instead",
  BG_REPORT_WRITE: 'a report file could not be written after the run finished (disk full, permissions); the run itself is summed up in the message',
  BG_BAD_REPORT: 'an input of `merge-reports` is not a JSON report as `badgateway run --reporter json` writes it (not JSON, another format, or another format version); the message names the file',
  BG_REPORTS_MISMATCH: 'the reports given to `merge-reports` are not shards of one run (another suite or gateways, another shard count, a shard or cell twice, one gateway in two builds); the message names the files',
  BG_SHARDS_MISSING: "`merge-reports` was not given every shard's report; the message names the missing shards (`--allow-partial` renders what is there)",
  // Faults.
  BG_UNKNOWN_FAULT: 'no fault has that id; the message names the closest ids (`badgateway faults` lists them all). The upstream answers 404 with this code to a request that names an unknown fault',
  BG_INVALID_FAULT: 'a custom fault is malformed, or a parameter given to a fault is wrong or over its limit; the message names the step (file:line:column for YAML); on the upstream, a request whose query params a fault cannot run with gets a 400 carrying this code',
  BG_DUPLICATE_FAULT: "a custom fault's id is already taken, by a built-in fault or by another custom one (in the same file or another); rename yours",
  BG_NOT_EXCHANGE_FAULT: 'a listener or DNS fault was named where a per-request script is needed (a route, the default fault, a mix); those have their own port or DNS name',
  BG_NOT_LISTENER_FAULT: 'a fault that is not a listener fault was named as one (listener faults: connect-refused, accept-queue-full, ...)',
  BG_INVALID_MIX: 'a weight in a fault mix is not a number >= 0',
  BG_WRONG_PROTOCOL: 'a default fault speaks the other protocol: the HTTP default must be an HTTP fault, the FastCGI default a FastCGI one (protocol: fastcgi)',
  // Scenarios and suites.
  BG_INVALID_SCENARIO: 'a scenario file is malformed; the message gives file:line:column and what to write',
  BG_DUPLICATE_SCENARIO: 'two scenario files in one suite have the same id (the file name)',
  BG_SUITE_MISSING: 'the suite path does not exist',
  BG_SUITE_EMPTY: 'the suite folder or list has no scenario files',
  BG_NO_SCENARIOS: 'no scenario matches --only (the message names the closest), or a scenario does not run through that gateway',
  BG_NOTHING_TO_REPRODUCE: '`reproduce`: the log has no line with a reason the gateway\'s parser knows, or no reason in it can be reproduced by a load run',
  // Gateways and runtimes.
  BG_UNKNOWN_GATEWAY: 'no gateway adapter has that id; the message lists them',
  BG_GATEWAY_UNSUPPORTED: 'the gateway cannot serve a route a scenario needs (e.g. Apache and DNS upstreams); such scenarios are skipped with this reason',
  BG_GATEWAY_MISSING: "the gateway's binary is not on PATH (process runtime); the message says how to install it",
  BG_GATEWAY_CONFIG: 'the gateway rejected its configuration (its own config test failed); the message has its output',
  BG_GATEWAY_START: 'the gateway started but did not become ready, or exited; its log tail follows',
  BG_BACKEND_START: "a scenario's backend process did not start or become ready: a real backend (php-fpm, gunicorn; its log follows), or the small Node server a process-layer fault supervises (its stderr follows)",
  BG_CONTAINER_START: 'the container runtime could not start the gateway from that image',
  BG_EXTERNAL_UNREACHABLE: '`--runtime external`: nothing answers at --url or at the --upstream-control URL; start the gateway (and the deployed upstream) first, the external runtime starts nothing on their side',
  BG_UPSTREAM_SUITE_MISMATCH: "`--upstream-control`: the deployed upstream serves another suite than the run's (or none, or refused the token); the message names the scenarios that differ",
  BG_GATEWAY_LOG: "`--gateway-log-cmd`: the command that should print the gateway's log exited at once; its output follows",
  BG_NO_RUNTIME: 'no runtime can run the gateway (no Docker engine with the image, no binary on PATH); the message says what to install',
  BG_CONFIG_PLACEHOLDER: 'your gateway config uses a placeholder that does not exist for that gateway; the message names the closest',
  BG_CONFIG_DIRECTIVE: 'your gateway config has a directive badgateway must own (pid, daemon, error log); remove it',
  BG_UNKNOWN_LOG_LINE: '`explain` recognises no gateway log line in what it was given',
  // Listening.
  BG_ADDRESS_IN_USE: 'the port, or the unix socket path, is already in use; stop what holds it or pick another (port 0 picks a free one)',
  BG_ADDRESS_DENIED: 'permission denied: a port below 1024 without privileges, or a unix socket in a directory you cannot write to',
  BG_ADDRESS_UNAVAILABLE: 'no local interface has that address',
  BG_SOCKET_DIR_MISSING: "the unix socket's directory does not exist; create it or pick another path",
  BG_LISTEN_FAILED: 'listening failed for another reason; the message has the system error',
  // The DNS responder.
  BG_DNS_BAD_NAME: 'a DNS name or zone cannot be carried on the wire (empty label, longer than 63 or 253 characters)',
  BG_DNS_BAD_RECORD: 'a DNS answer is wrong (an address that is not IPv4/IPv6, a TTL or phase out of range)',
  // The control API (each in a JSON error body, with its HTTP status).
  BG_CONTROL_TOKEN_EMPTY: 'the control token is empty; give a non-empty one',
  BG_CONTROL_TOKEN_REQUIRED: 'the control API would listen beyond loopback without a token; set BADGATEWAY_CONTROL_TOKEN or pass --control-token-file, or bind it to 127.0.0.1',
  BG_CONTROL_UNAUTHORIZED: '401: the request has no token, or the wrong one (Authorization: Bearer <token>)',
  BG_CONTROL_BAD_HOST: '403: without a token, only requests addressed to an IP address or localhost are answered',
  BG_CONTROL_BAD_ORIGIN: '403: without a token, only pages served from this machine may call it',
  BG_CONTROL_NOT_FOUND: '404: no such endpoint (the message lists them)',
  BG_CONTROL_METHOD_NOT_ALLOWED: '405: the endpoint does not take that method (the Allow header lists those it does)',
  BG_CONTROL_UPGRADE_REQUIRED: '426: /api/events is a WebSocket; connect with ws://',
  BG_CONTROL_BAD_URL: '400: the request target does not parse, or has bad percent-encoding',
  BG_CONTROL_BAD_BODY: '400: the JSON body does not have the expected shape; the message says which field',
  BG_CONTROL_BAD_JSON: '400: the body is empty or not JSON',
  BG_CONTROL_BODY_TOO_LARGE: '413: the body is larger than the control API accepts',
  BG_CONTROL_ROUTING_TOO_LARGE: '400: PUT /api/routing with more than 256 routes or 256 mix entries',
  BG_CONTROL_CLOSING: '503: the control API is shutting down',
  BG_CONTROL_INTERNAL: '500: a bug in the control API; please report it with the request',
  // The upstream's wire side: codes of errors that end a connection, never printed to a user.
  BG_BAD_REQUEST: 'the upstream got a request it cannot parse (head or chunked body); it answers 400 and closes',
  BG_PEER_CLOSED: 'the peer left while the upstream was reading from it; the fault script ends quietly',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BadgatewayError extends Error {
  readonly code: ErrorCode;
  /** True for mistakes of the user (bad input, port in use): printed without a stack. */
  readonly userError: boolean;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; userError?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.userError = options.userError ?? true;
  }
}

/** Bad input: a fault file, a scenario, a CLI flag. Exit code 2. */
export class InputError extends BadgatewayError {
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { ...options, userError: true });
  }
}

/** Something we need could not be started: a port in use, a missing binary. Exit code 2. */
export class StartError extends BadgatewayError {
  readonly logTail: string | undefined;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; logTail?: string } = {}) {
    super(code, message, { ...options, userError: true });
    this.logTail = options.logTail;
  }
}

export function isBadgatewayError(err: unknown): err is BadgatewayError {
  return err instanceof BadgatewayError;
}

/** Edit distance, used to suggest the closest ids for an unknown one. */
export function levenshtein(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The ids closest to `wanted`: substring matches first, then by edit distance. */
export function closest(wanted: string, ids: readonly string[], max = 3): string[] {
  // The edit distance costs length × length per id: a 1 MB "id" took seconds. Ids are short.
  const w = wanted.slice(0, 100).toLowerCase();
  return [...ids]
    .map((id) => ({ id, score: id.includes(w) || w.includes(id) ? 0 : levenshtein(w, id) }))
    .sort((x, y) => x.score - y.score || x.id.localeCompare(y.id))
    .slice(0, max)
    .map((x) => x.id);
}
