/**
 * What the two Node proxy adapters share (http-proxy-middleware on express, @fastify/http-proxy
 * on fastify): the gateway is a small CommonJS entry file rendered into the run's prefix, run by
 * the same Node that runs badgateway (`process.execPath`), that builds the proxy app from the
 * route table and loads the proxy packages from the project's node_modules (the current
 * directory's first, then badgateway's own). Its "log" is what the entry's proxy error handlers
 * write: one JSON line per error, with the error's code and message (and its cause's, when the
 * proxy wraps it), the request's path (with ?bgp=<n>) and whether the response head had gone out.
 *
 * The version that decides behaviour is the package's plus Node's (Node's HTTP parser, llhttp,
 * and undici ship with it): `3.0.11+node20.20`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillUserConfig, hostPort } from './user-config.js';
import type { GatewayRoute, LogEntry, Reason, RenderInput, RenderedConfig, UserConfigValues } from './gateway.js';
import { READY_PATH, routePath } from './paths.js';

/** The entry's error log, relative to the prefix. */
export const NODE_PROXY_LOG = 'logs/proxy.log';
/** The rendered entry file, relative to the prefix. */
export const NODE_PROXY_ENTRY = 'proxy.cjs';

/** badgateway's own package root (src/gateways/ or dist/gateways/, two levels up): its node_modules hold the devDependencies. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One proxy package set: what the entry loads and what to install when it is missing. */
export interface NodeProxyPackages {
  /** The package whose version names the gateway's, e.g. http-proxy-middleware. */
  readonly main: string;
  /** Every package the entry loads, with the version range to install. */
  readonly install: Readonly<Record<string, string>>;
}

export function installCommand(p: NodeProxyPackages): string {
  return `npm install --save-dev ${Object.entries(p.install).map(([n, v]) => `${n}@${v}`).join(' ')}`;
}

/** Where the entry and the version probe look for packages, in order. */
function bases(): string[] {
  return [...new Set([process.cwd(), PROJECT_ROOT])];
}

/**
 * The packages of `p` that neither the current directory nor badgateway's own install can
 * load; empty when all are there.
 */
export function missingPackages(p: NodeProxyPackages): string[] {
  return Object.keys(p.install).filter(
    (name) =>
      !bases().some((b) => {
        try {
          createRequire(join(b, 'package.json')).resolve(name);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

/** Why the proxy cannot run here, with what to install; undefined when it can. */
export function nodeProxyRequires(id: string, p: NodeProxyPackages): string | undefined {
  const missing = missingPackages(p);
  if (missing.length === 0) return undefined;
  return `${id} needs the npm package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which neither ${process.cwd()} nor badgateway's own install (${PROJECT_ROOT}) can load. Run \`${installCommand(p)}\` in your project, then run badgateway from there.`;
}

/**
 * The code both the entry and the version probe start with: `load(name)` from the bases, and
 * a clear exit (code 3) naming what to install when a package is missing (the process runtime
 * asks `requires()` first; this is for the entry run by hand).
 */
function loaderSource(p: NodeProxyPackages): string {
  return [
    `const BASES = [...new Set([process.cwd(), ${JSON.stringify(PROJECT_ROOT)}])];`,
    `const INSTALL = ${JSON.stringify(installCommand(p))};`,
    'function load(name) {',
    '  for (const base of BASES) {',
    "    let req;",
    "    try { req = require('node:module').createRequire(require('node:path').join(base, 'package.json')); req.resolve(name); } catch { continue; }",
    '    return req(name);',
    '  }',
    "  process.stderr.write(`${name} is not installed where badgateway looks (${BASES.join(', ')}): run \\`${INSTALL}\\` in your project.\\n`);",
    '  process.exit(3);',
    '}',
  ].join('\n');
}

/**
 * `node -e <this>`: the main package's version and Node's, one per line
 * (`http-proxy-middleware 3.0.11`, `node v20.20.2`).
 */
export function versionScript(p: NodeProxyPackages): string {
  return [
    loaderSource(p),
    `const pkg = load(${JSON.stringify(`${p.main}/package.json`)});`,
    "process.stdout.write(`${pkg.name} ${pkg.version}\\nnode ${process.version}\\n`);",
  ].join('\n');
}

/** `http-proxy-middleware 3.0.11\nnode v20.20.2` → `3.0.11+node20.20`: the release, then Node's major.minor. */
export function parseNodeProxyVersion(main: string, output: string): string | undefined {
  const esc = main.replace(/[.*+?^${}()|[\]\\/@]/g, '\\$&');
  const release = new RegExp(`^${esc} (\\d+\\.\\d+\\.\\d+)\\s*$`, 'm').exec(output)?.[1];
  const node = /^node v(\d+)\.(\d+)\.\d+/m.exec(output);
  if (!release || !node) return undefined;
  return `${release}+node${node[1]}.${node[2]}`;
}

/** One route as the entry reads it. */
interface EntryRoute {
  readonly path: string;
  readonly kind: 'tcp' | 'unix' | 'dns';
  readonly origin?: string;
  readonly socketPath?: string;
  readonly keepalive: boolean;
  readonly websocket: boolean;
}

function entryRoute(r: GatewayRoute): EntryRoute {
  const t = r.target;
  const base = { path: routePath(r.id), kind: t.kind, keepalive: r.keepalive === true, websocket: r.websocket === true };
  if (t.kind === 'tcp') return { ...base, origin: `http://${hostPort(t.host, t.port)}` };
  if (t.kind === 'unix') return { ...base, socketPath: t.path };
  // Node resolves with the system resolver (getaddrinfo): the harness skips DNS routes for these adapters.
  return { ...base, origin: `http://${hostPort(t.name, t.port)}` };
}

/** The entry file: the shared header (the config as JSON, the loader, the log writer), then the flavour's app. */
export function renderEntry(id: string, p: NodeProxyPackages, input: RenderInput, app: string): RenderedConfig {
  const config = {
    gateway: id,
    listen: input.listen,
    ready: READY_PATH,
    log: `${input.prefix}/${NODE_PROXY_LOG}`,
    timeouts: input.timeouts,
    routes: input.routes.map(entryRoute),
  };
  const text = [
    "'use strict';",
    `// badgateway: ${id} for one run, rendered from the scenario route table. Run: node ${NODE_PROXY_ENTRY}`,
    `const CONFIG = ${JSON.stringify(config, null, 2)};`,
    loaderSource(p),
    '// One JSON line per proxy error, written at once so that a killed proxy loses none.',
    'function log(fields) {',
    "  require('node:fs').appendFileSync(CONFIG.log, JSON.stringify({ time: new Date().toISOString(), gateway: CONFIG.gateway, ...fields }) + '\\n');",
    '}',
    'function errFields(err) {',
    '  const cause = err && err.cause;',
    '  return { name: err && err.name, code: err && err.code, message: String(err && err.message), ...(cause ? { causeName: cause.name, causeCode: cause.code, causeMessage: String(cause.message) } : {}) };',
    '}',
    app.trim(),
    '',
  ].join('\n');
  return { files: { [NODE_PROXY_ENTRY]: text }, main: NODE_PROXY_ENTRY };
}

/** `{{name}}` placeholders a user's own proxy entry may use. */
export const NODE_PROXY_PLACEHOLDERS: Readonly<Record<string, string>> = {
  listen: 'host:port the proxy must listen on (required): const [host, port] = ...',
  upstream: 'the chaos upstream, host:port (required): target: "http://{{upstream}}"',
  healthy: 'a second upstream that always answers 200, host:port',
  prefix: 'a directory of the run, for any file the proxy writes',
  log: 'the file to append one JSON line per proxy error to: {"gateway":"<id>","phase":"head","url":req.url,"code":err.code,"message":err.message}',
};

/**
 * A user's own entry (CommonJS): placeholders filled, and one line first that lets its plain
 * `require('express')` find the packages where the rendered entry finds them (it runs from the prefix).
 */
export function nodeProxyFromUserConfig(text: string, file: string, v: UserConfigValues): RenderedConfig {
  const body = fillUserConfig(text, file, v, {
    placeholders: NODE_PROXY_PLACEHOLDERS,
    hints: { listen: "`server.listen({{listen}}'s port, host)` (e.g. const [host, port] = '{{listen}}'.split(':'))", upstream: "`target: 'http://{{upstream}}'`" },
    forbidden: [],
    forbiddenWhy: '',
    extra: { log: `${v.prefix}/${NODE_PROXY_LOG}` },
  });
  const paths = `module.paths.unshift(...[process.cwd(), ${JSON.stringify(PROJECT_ROOT)}].map((b) => require('node:path').join(b, 'node_modules')));`;
  return { files: { 'user-proxy.cjs': `// badgateway: ${file} with its placeholders filled in.\n${paths}\n${body}` }, main: 'user-proxy.cjs' };
}

/** One line of the entry's log, as written by `log()` above. */
interface ProxyLine {
  gateway?: string;
  phase?: string;
  url?: string;
  name?: string;
  code?: string;
  message?: string;
  causeName?: string;
  causeCode?: string;
  causeMessage?: string;
  timeout?: string;
}

/** Node's HTTP client errors (net, http, llhttp's HPE_* codes) and undici's, by code → reason. */
const BY_CODE: ReadonlyArray<readonly [RegExp, Reason]> = [
  [/^(ECONNREFUSED|ENOENT)$/, 'connect-refused'],
  [/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT)$/, 'connect-timeout'],
  [/^(UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT)$/, 'read-timeout'],
  [/^(HPE_HEADER_OVERFLOW|UND_ERR_HEADERS_OVERFLOW)$/, 'header-too-big'],
  [/^HPE_INVALID_CHUNK_SIZE$/, 'invalid-chunked'],
  [/^(HPE_INVALID_STATUS|HPE_INVALID_VERSION)$/, 'invalid-status'],
  [/^HPE_INVALID_CONSTANT$/, 'no-valid-http'],
  [/^HPE_UNEXPECTED_CONTENT_LENGTH$/, 'duplicate-header'],
  [/^(HPE_INVALID_HEADER_TOKEN|HPE_INVALID_CONTENT_LENGTH|HPE_INVALID_TRANSFER_ENCODING|HPE_CR_EXPECTED|HPE_LF_EXPECTED|HPE_UNEXPECTED_SPACE)$/, 'invalid-header'],
  [/^ENOTFOUND$/, 'dns-nxdomain'],
  [/^EAI_AGAIN$/, 'dns-failed'],
  [/^UND_ERR_RES_CONTENT_LENGTH_MISMATCH$/, 'upstream-truncated'],
];

/**
 * An error the entry logged → reason. `ECONNRESET` says two things in Node: `read ECONNRESET`
 * is a reset (RST); `socket hang up` (before any response; also the request aborted by the
 * proxy's own timer, which the entry marks with `timeout`) and `aborted` (mid-body) are a close. undici's `other side closed`
 * (UND_ERR_SOCKET) is a close.
 */
export function nodeProxyReasonOf(l: ProxyLine): Reason | undefined {
  if (l.timeout) return 'read-timeout';
  // A wrapping error (reply-from's) carries the one that happened as its cause.
  const wrapped = l.causeMessage !== undefined;
  const code = wrapped ? l.causeCode : l.code;
  const message = (wrapped ? l.causeMessage : l.message) ?? '';
  // undici's parser errors (HTTPParserError) carry no code here: their message names what llhttp refused.
  const parse = /^Response does not match the HTTP\/1\.1 protocol \((.*)\)/.exec(message)?.[1];
  if (parse !== undefined) return parserReason(parse);
  if (code === undefined) return undefined;
  if (code === 'ECONNRESET') return /socket hang up|^aborted$/.test(message) ? 'upstream-closed-early' : 'upstream-reset';
  if (code === 'UND_ERR_SOCKET') return /other side closed/.test(message) ? 'upstream-closed-early' : /reset/i.test(message) ? 'upstream-reset' : undefined;
  // Before the head: undici found the body framing at odds with Content-Length (it read a malformed head leniently).
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && l.phase !== 'body') return 'invalid-header';
  return BY_CODE.find(([re]) => re.test(code))?.[1];
}

/** What llhttp refused, in its own words (the part in parentheses of undici's message) → reason. */
function parserReason(what: string): Reason | undefined {
  if (/chunk/i.test(what)) return 'invalid-chunked';
  if (/^Invalid status|Invalid HTTP version|Expected HTTP\/ after/i.test(what)) return 'invalid-status';
  if (/^Expected HTTP\//.test(what)) return 'no-valid-http';
  if (/Duplicate Content-Length/i.test(what)) return 'duplicate-header';
  if (/header|Content-Length|Transfer-Encoding|CR|LF/i.test(what)) return 'invalid-header';
  return undefined;
}

/** Reasons an error after the head keeps; any other error there is a cut body. */
const MID_BODY_KEPT: ReadonlySet<Reason> = new Set(['upstream-reset', 'read-timeout', 'invalid-chunked']);

/** A line of `id`'s log → entry; a reason the adapter's table does not document is left out. */
export function parseNodeProxyLine<R extends Reason>(id: string, documented: readonly { readonly reason: R }[], line: string): LogEntry<R> | undefined {
  if (!line.startsWith('{')) return undefined;
  let j: ProxyLine;
  try {
    j = JSON.parse(line) as ProxyLine;
  } catch {
    return undefined;
  }
  if (typeof j !== 'object' || j === null || j.gateway !== id) return undefined;
  let reason = nodeProxyReasonOf(j);
  if (j.phase === 'body' && reason !== undefined && !MID_BODY_KEPT.has(reason)) reason = 'upstream-truncated';
  if (j.phase === 'body' && reason === undefined) reason = 'upstream-truncated';
  const known = documented.find((d) => d.reason === reason)?.reason;
  return { raw: line, level: 'error', reason: known, target: j.url };
}

/**
 * The line the entry writes for an error, for the reason table's examples: `[body ][timeout ][CODE: ]message`,
 * the error that happened (for a wrapped one, its cause: what an operator greps for).
 */
export function nodeProxyExampleLine(id: string, example: string): string {
  const m = /^(?:(body) )?(?:(timeout) )?(?:([A-Z][A-Z0-9_]+): )?(.*)$/.exec(example)!;
  return JSON.stringify({
    gateway: id,
    phase: m[1] ?? 'head',
    url: '/s/x/?bgp=1',
    ...(m[3] ? { code: m[3] } : {}),
    message: m[4],
    ...(m[2] ? { timeout: 'proxyTimeout' } : {}),
  });
}

/** `node` itself: the adapters run the Node that runs badgateway. */
export const NODE_BINARY = process.execPath;

/**
 * Node's own syntax check (`node --check FILE` parses without running): it works for a user's
 * entry too, which would otherwise start listening. Missing packages are `requires()`'s to tell.
 */
export function nodeProxyTestArgs(_prefix: string, configPath: string): string[] {
  return ['--check', configPath];
}
