/**
 * Scenario files: YAML in, validated Scenario out, with file:line:column for
 * every problem. A suite is a folder of scenario files, a single file, or a
 * list file (one path per line).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { closest, InputError } from '../errors.js';
import type { FaultDef } from '../faults/fault.js';
import type { Catalogue } from '../faults/registry.js';
import { isReason, REASON_IDS } from '../gateways/reasons.js';
import { processParams } from '../process/behavior.js';
import { readInputText, readYaml, type YamlSource } from '../yaml-source.js';
import { backendFaultDef, backendSchema, backendSpec } from './backend-key.js';
import { loadBlockFromYaml, loadBlockSchema } from './load-block.js';
import { poolFromYaml, upstreamsSchema } from './pool.js';
import { tlsKeys } from './tls-key.js';
import { RANGE, type Expectation, type PoolMember, type Scenario } from './scenario.js';

const ID = /^[a-z0-9][a-z0-9-]*$/;
const statusValue = z.union([z.number().int().min(100).max(999), z.literal('no-response'), z.literal('no-status-line')]);
const count = z.string().regex(/^(>=|<=|>|<|=)?\d+$/, 'a count is a number with an optional comparison, e.g. ">0", "0", ">=3"');

// A documented expectation names where it is documented: a title and the page's URL.
const documentedSource = z
  .string()
  .trim()
  .regex(/\S.*\shttps?:\/\/\S+|https?:\/\/\S+\s.*\S/, 'documented: names the source of an expectation that was read, not measured: its title and URL, e.g. "AWS, Troubleshoot your Application Load Balancers https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html"');

const expectationSchema = z.strictObject({
  status: z.union([statusValue, z.array(statusValue).min(1)]).optional(),
  body: z.union([z.enum(['complete', 'truncated', 'none']), z.array(z.enum(['complete', 'truncated', 'none'])).min(1)]).optional(),
  // Which strings are reasons is checked after parsing (checkReasons), to name the closest ones.
  reason: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  maxMs: z.number().positive().optional(),
  minMs: z.number().min(0).optional(),
  websocket: z.strictObject({ upgraded: z.boolean().optional(), closeCode: z.number().int().optional() }).optional(),
  grpcStatus: z.union([z.number().int().min(0).max(16), z.literal('none')], { error: 'grpcStatus: a gRPC status code 0-16 (14 = UNAVAILABLE), or none (the reply carried no grpc-status)' }).optional(),
  counts: z.record(z.string().regex(/^(\d{3}|no-response|no-status-line)$/, 'count keys are statuses (502) or no-response / no-status-line'), count).optional(),
  gateway: z.literal('crashes', { error: 'gateway: takes one value, `crashes` (the gateway is measured dying on this scenario); leave it out otherwise' }).optional(),
  documented: documentedSource.optional(),
});

const headers = z.union([
  z.record(z.string(), z.union([z.string(), z.number()])),
  z.array(z.tuple([z.string(), z.union([z.string(), z.number()])])),
]);

const scenarioSchema = z.strictObject({
  id: z.string().regex(ID, 'ids are kebab-case: lower-case letters, digits and dashes').optional(),
  description: z.string().trim().min(1, 'say what production symptom this reproduces'),
  fault: z.union([z.string(), z.strictObject({ id: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])).optional() })]).optional(),
  backend: backendSchema.optional(),
  counterpart: z.string().regex(ID, 'a scenario id').optional(),
  // Several servers behind the route instead of one fault (src/scenarios/pool.ts).
  upstreams: upstreamsSchema.optional(),
  upstream: z.enum(['tcp', 'unix', 'dns']).optional(),
  keepalive: z.boolean().optional(),
  // TLS to the upstream (src/scenarios/tls-key.ts checks where they apply).
  tls: z.boolean().optional(),
  tlsVerify: z.enum(['default', 'on', 'off']).optional(),
  request: z
    .strictObject({
      method: z.string().regex(/^[A-Z]+$/, 'an upper-case method, e.g. GET').optional(),
      path: z.string().startsWith('/').optional(),
      headers: headers.optional(),
      body: z.string().optional(),
      websocket: z.boolean().optional(),
      grpc: z.boolean().optional(),
      timeoutMs: z.number().positive().optional(),
    })
    .optional(),
  sequence: z
    .strictObject({
      count: z.number().int().min(1).max(10_000),
      spacingMs: z.number().min(0).optional(),
      concurrency: z.number().int().min(1).max(256).optional(),
    })
    .optional(),
  expect: z.record(z.string(), expectationSchema),
  tags: z.array(z.string()).optional(),
  load: loadBlockSchema.optional(),
  // What a safe gateway refuses (src/harness/security.ts): a finding when the upstream's response gets through.
  mustRefuse: z.string().trim().min(1, 'say what the gateway should refuse, e.g. "an expired upstream certificate"').optional(),
});

export function scenarioFromYaml(src: YamlSource, catalogue: Catalogue, knownGateways: readonly string[]): Scenario {
  const fail = (path: ReadonlyArray<string | number>, msg: string, atKey = false): never => {
    throw new InputError('BG_INVALID_SCENARIO', `${src.where(path, atKey)}: ${msg}`);
  };
  const r = scenarioSchema.safeParse(src.data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path as Array<string | number>;
    const msg = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys.join('", "')}"` : issue.message;
    const unknownKey = issue.code === 'unrecognized_keys';
    fail(unknownKey ? [...path, issue.keys[0]!] : path, `${path.length ? path.join('.') + ': ' : ''}${msg}`, unknownKey);
  }
  const d = r.data!;
  const fromFile = basename(src.file, extname(src.file));
  const id = d.id ?? fromFile;
  if (!ID.test(id)) fail([], `scenario id "${id}" (from the file name) must be kebab-case; rename the file or set id:`);
  if (d.backend !== undefined) {
    if (d.upstreams !== undefined) fail(['upstreams'], 'a scenario has either backend: (a real server) or upstreams: (a pool of chaos servers), not both', true);
    return backendScenario(d, id, src.file, fail, knownGateways);
  }
  if (d.counterpart !== undefined) fail(['counterpart'], 'counterpart: belongs to a backend: scenario (php-fpm, gunicorn): it names the chaos-upstream scenario that plays the same situation', true);
  if (d.fault !== undefined && d.upstreams !== undefined) fail(['upstreams'], 'a scenario has either fault: (one server) or upstreams: (a pool of servers), not both', true);
  if (d.fault === undefined && d.upstreams === undefined) fail([], 'a scenario needs fault: <id> (one server), upstreams: [<id>, <id>, ...] (a pool of servers), or backend: (a real php-fpm or gunicorn)');
  let pool: PoolMember[] | undefined;
  if (d.upstreams !== undefined) {
    pool = poolFromYaml(d.upstreams, catalogue, fail);
    if (d.upstream !== undefined && d.upstream !== 'tcp') fail(['upstream'], `upstream: ${d.upstream} does not apply to a pool: each server of a pool has a TCP address of its own`);
  }
  const fault = d.fault ?? { id: pool![0]!.fault, params: pool![0]!.params };
  const faultId = typeof fault === 'string' ? fault : fault.id;
  if (!catalogue.has(faultId)) {
    fail(['fault'], `unknown fault "${faultId}". Closest: ${closest(faultId, catalogue.ids()).join(', ')}. \`badgateway faults\` lists them.`);
  }
  const params = typeof fault === 'string' ? {} : (fault.params ?? {});
  const def = catalogue.get(faultId);
  if ((def.layer === 'exchange' || def.layer === 'listener') && def.protocol === 'fastcgi') {
    // A FastCGI scenario reaches the upstream's FastCGI TCP listener or its FastCGI unix socket, one request per connection.
    if (def.layer === 'exchange' && d.upstream === 'dns') fail(['upstream'], `fault ${faultId} speaks FastCGI: the gateway reaches it over tcp (the upstream's FastCGI port) or unix (its FastCGI socket), not by DNS name; write upstream: tcp or upstream: unix`);
    if (d.keepalive === true) fail(['keepalive'], `fault ${faultId} speaks FastCGI, and FastCGI routes are rendered without connection reuse (nginx fastcgi_keep_conn off, as PHP-FPM setups usually run); drop keepalive:`);
    if (d.request?.websocket === true) fail(['request', 'websocket'], `fault ${faultId} speaks FastCGI, which has no WebSocket upgrade; drop request.websocket`);
  }
  if (def.layer === 'exchange' && def.protocol === 'h2' && d.upstream !== undefined && d.upstream !== 'tcp') {
    fail(['upstream'], `fault ${faultId} speaks HTTP/2: the gateway reaches it over tcp (the upstream's h2c port), not by ${d.upstream}; write upstream: tcp or leave it out`);
  }
  if (def.layer === 'exchange') {
    try {
      catalogue.compile(faultId, params);
    } catch (err) {
      fail(['fault', 'params'], (err as Error).message);
    }
  } else if (def.layer === 'process') {
    try {
      processParams(def, params);
    } catch (err) {
      fail(['fault', 'params'], (err as Error).message);
    }
  } else if (Object.keys(params).length > 0) fail(['fault', 'params'], `fault ${faultId} takes no parameters`);
  if (!pool && def.layer !== 'exchange' && d.upstream !== undefined) fail(['upstream'], `upstream: applies to exchange faults; ${faultId} is a ${def.layer} fault with its own ${def.layer === 'dns' ? 'DNS name' : def.layer === 'process' ? 'backend process and port' : def.socket === 'unix' ? 'unix socket' : 'port'}`);
  const tls = tlsKeys(d, def, faultId, pool !== undefined, fail);
  checkExpect(d, fail, knownGateways);
  checkGrpc(d, def, fail);
  return {
    id,
    file: src.file,
    description: d.description.trim(),
    fault: faultId,
    faultDef: def,
    params,
    upstream: d.upstream ?? 'tcp',
    keepalive: d.keepalive ?? false,
    request: requestOf(d),
    sequence: d.sequence ? { count: d.sequence.count, spacingMs: d.sequence.spacingMs ?? 0, concurrency: d.sequence.concurrency ?? 1 } : undefined,
    // checkReasons has held every reason against the vocabulary.
    expect: d.expect as Readonly<Record<string, Expectation>>,
    tags: d.tags ?? [],
    ...(pool ? { pool } : {}),
    ...tls,
    ...(d.load ? { load: loadBlockFromYaml(d.load, { fault: faultId, params }, catalogue, fail) } : {}),
    ...(d.mustRefuse !== undefined ? { mustRefuse: d.mustRefuse } : {}),
  };
}

type ScenarioData = z.infer<typeof scenarioSchema>;
type Fail = (path: ReadonlyArray<string | number>, msg: string, atKey?: boolean) => never;

function checkExpect(d: ScenarioData, fail: Fail, knownGateways: readonly string[]): void {
  for (const key of Object.keys(d.expect)) {
    const at = key.indexOf('@');
    const gw = at === -1 ? key : key.slice(0, at);
    if (!knownGateways.includes(gw)) fail(['expect', key], `unknown gateway "${gw}"; known: ${knownGateways.join(', ')}`, true);
    if (at !== -1 && !RANGE.test(key.slice(at + 1))) fail(['expect', key], `"${key.slice(at + 1)}" is not a version range; write e.g. nginx@>=1.23, nginx@>=1.22 <1.26, caddy@2.6.2+go>=1.20 (the Go toolchain), or http-proxy-middleware@+node>=22 (the Node it runs on)`, true);
    const e = d.expect[key]!;
    if (e.counts && !d.sequence) fail(['expect', key, 'counts'], 'counts: needs a sequence: of requests');
    checkReasons(e.reason, ['expect', key, 'reason'], fail);
  }
}

/**
 * `grpc: true` is a gRPC call through the gateway's gRPC proxying: to an HTTP/2 fault (`protocol:
 * h2`) or a listener fault over TCP, one request (the h2 probe speaks one stream), POST by default.
 * `grpcStatus:` needs it.
 */
function checkGrpc(d: ScenarioData, def: FaultDef, fail: Fail): void {
  const grpc = d.request?.grpc === true;
  if (!grpc) {
    for (const [key, e] of Object.entries(d.expect)) if (e.grpcStatus !== undefined) fail(['expect', key, 'grpcStatus'], 'grpcStatus: is what a gRPC client reads; it needs request.grpc: true', true);
    return;
  }
  if (d.request?.websocket) fail(['request', 'grpc'], 'a gRPC call is not a WebSocket upgrade; drop one of request.grpc and request.websocket', true);
  if (d.request?.method !== undefined && d.request.method !== 'POST') fail(['request', 'method'], 'a gRPC call is a POST; drop request.method', true);
  if (d.upstreams !== undefined) fail(['request', 'grpc'], 'gRPC scenarios have one upstream; drop upstreams: or request.grpc', true);
  if (d.upstream !== undefined && d.upstream !== 'tcp') fail(['upstream'], 'a gRPC route reaches the upstream over TCP (its h2c port); drop upstream:', true);
  const h2 = (def as { readonly protocol?: string }).protocol === 'h2';
  if (def.layer === 'dns' || (def.layer === 'exchange' && !h2) || (def.layer === 'listener' && (def.socket === 'unix' || def.protocol === 'fastcgi'))) {
    fail(['request', 'grpc'], `fault ${def.id} does not speak HTTP/2: a gRPC call needs an h2-* or grpc-* fault (protocol: h2), or a listener fault over TCP (connect-refused, ...)`, true);
  }
}

function requestOf(d: ScenarioData): Scenario['request'] {
  const hdrs = d.request?.headers === undefined ? [] : Array.isArray(d.request.headers) ? d.request.headers : Object.entries(d.request.headers);
  return {
    method: d.request?.method ?? (d.request?.grpc ? 'POST' : 'GET'),
    path: d.request?.path ?? '/',
    headers: hdrs.map(([k, v]) => [k, String(v)] as const),
    body: d.request?.body,
    websocket: d.request?.websocket ?? false,
    ...(d.request?.grpc ? { grpc: true } : {}),
    timeoutMs: d.request?.timeoutMs ?? 5000,
  };
}

/** A scenario whose upstream is a real application server (`backend:`), not a fault of the chaos upstream. */
function backendScenario(d: ScenarioData, id: string, file: string, fail: Fail, knownGateways: readonly string[]): Scenario {
  if (d.fault !== undefined) fail(['fault'], 'a scenario has a fault: (played by the chaos upstream) or a backend: (a real php-fpm or gunicorn), not both; name the fault that plays the same situation as counterpart: <its scenario id> instead', true);
  if (d.upstream !== undefined) fail(['upstream'], 'upstream: applies to faults; a backend says where it listens itself (php-fpm: backend.listen: unix or tcp; gunicorn: tcp)', true);
  if (d.keepalive) fail(['keepalive'], 'keepalive: is not supported with a backend: yet', true);
  if (d.request?.websocket) fail(['request', 'websocket'], 'a backend: scenario sends plain requests; neither php-fpm nor the WSGI app answers a WebSocket upgrade', true);
  if (d.tls !== undefined || d.tlsVerify !== undefined) fail([d.tls !== undefined ? 'tls' : 'tlsVerify'], 'a backend: scenario reaches its server in plain text; TLS applies to faults (tls: true, or a TLS listener fault)', true);
  if (d.request?.grpc) fail(['request', 'grpc'], 'a backend: scenario sends plain requests; neither php-fpm nor the WSGI app speaks gRPC', true);
  if (d.mustRefuse !== undefined) fail(['mustRefuse'], 'mustRefuse: belongs to a scenario whose fault the gateway should refuse (a bad upstream certificate); a backend: is a real server', true);
  checkExpect(d, fail, knownGateways);
  const backend = backendSpec(d.backend!);
  return {
    id,
    file,
    description: d.description.trim(),
    fault: backend.kind,
    faultDef: backendFaultDef(backend),
    params: {},
    upstream: 'tcp',
    keepalive: false,
    request: requestOf(d),
    sequence: d.sequence ? { count: d.sequence.count, spacingMs: d.sequence.spacingMs ?? 0, concurrency: d.sequence.concurrency ?? 1 } : undefined,
    expect: d.expect as Readonly<Record<string, Expectation>>,
    tags: d.tags ?? [],
    backend,
    ...(d.counterpart !== undefined ? { counterpart: d.counterpart } : {}),
  };
}

/**
 * An expectation's `reason:` names reasons of the shared vocabulary (src/gateways/reasons.ts), or
 * `none`. Checked here, so a misspelt reason stops the run before any gateway starts instead of
 * failing every gateway's verdict at the end.
 */
function checkReasons(
  reason: string | readonly string[] | undefined,
  at: ReadonlyArray<string | number>,
  fail: (path: ReadonlyArray<string | number>, msg: string) => never,
): void {
  if (reason === undefined) return;
  const list = typeof reason === 'string' ? [reason] : reason;
  for (const [i, r] of list.entries()) {
    const path = typeof reason === 'string' ? at : [...at, i];
    if (r === 'none') {
      // evaluate() reads a list with none as "no reason line" and would ignore the others.
      if (list.length > 1) fail(path, `reason: none means no log line names the request with a reason, so it cannot be listed with reasons; write \`reason: none\` or the list of reasons without it`);
      continue;
    }
    if (!isReason(r)) {
      fail(
        path,
        `unknown reason "${r}". Closest: ${closest(r, REASON_IDS).join(', ')}. Gateway log lines are normalized to these reasons: ` +
          `${REASON_IDS.join(', ')}; \`none\` expects no log line naming the request with a reason. ` +
          '`badgateway explain "<log line>"` shows the reason a log line gives.',
      );
    }
  }
}

/** The built-in catalogue folder, next to dist/ or src/ in the package. */
export function builtinScenarioDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');
}

async function filesOf(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new InputError('BG_SUITE_MISSING', `suite ${path} does not exist. Give a folder of scenario .yaml files, one scenario file, or a list file.`);
  }
  if (st.isDirectory()) {
    const names = (await readdir(path)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
    return names.map((n) => join(path, n));
  }
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return [path];
  // A list file: one scenario path per line, relative to the list; # comments.
  const lines = (await readInputText(path)).split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  return lines.map((l) => resolve(dirname(path), l));
}

export async function loadSuite(path: string, catalogue: Catalogue, knownGateways: readonly string[]): Promise<Scenario[]> {
  const files = await filesOf(path);
  if (files.length === 0) throw new InputError('BG_SUITE_EMPTY', `suite ${path} has no scenario files (*.yaml).`);
  const out: Scenario[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const s = scenarioFromYaml(await readYaml(f), catalogue, knownGateways);
    const other = seen.get(s.id);
    if (other) throw new InputError('BG_DUPLICATE_SCENARIO', `scenario id "${s.id}" is defined twice: ${other} and ${f}`);
    seen.set(s.id, f);
    out.push(s);
  }
  checkCounterparts(out);
  return out;
}

/** A backend scenario's counterpart is a scenario of the same suite played by the chaos upstream. */
function checkCounterparts(all: readonly Scenario[]): void {
  const byId = new Map(all.map((s) => [s.id, s]));
  for (const s of all) {
    if (s.counterpart === undefined) continue;
    const c = byId.get(s.counterpart);
    if (!c) {
      const others = all.filter((x) => x.backend === undefined).map((x) => x.id);
      throw new InputError('BG_INVALID_SCENARIO', `${s.file}: counterpart: no scenario "${s.counterpart}" in this suite. Closest: ${closest(s.counterpart, others).join(', ')}. The counterpart is the chaos-upstream scenario that plays the same situation, in the same suite.`);
    }
    if (c.backend !== undefined) throw new InputError('BG_INVALID_SCENARIO', `${s.file}: counterpart: ${c.id} is a backend scenario too; name a scenario the chaos upstream plays (a fault:), so the report can say whether the real server is answered alike.`);
  }
}

/** Keep scenarios whose id matches any of the patterns (`*` wildcards); none given keeps all. */
export function selectScenarios(all: readonly Scenario[], only: readonly string[] | undefined): Scenario[] {
  if (!only || only.length === 0) return [...all];
  const res = only.map((p) => new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  const picked = all.filter((s) => res.some((r) => r.test(s.id)));
  if (picked.length === 0) {
    throw new InputError('BG_NO_SCENARIOS', `no scenario matches ${only.join(', ')}. Closest: ${closest(only[0]!, all.map((s) => s.id)).join(', ')}.`);
  }
  // A backend scenario is compared with its counterpart in the same run: picking one brings the other.
  const ids = new Set(picked.map((s) => s.id));
  const wanted = new Set(picked.map((s) => s.counterpart).filter((c): c is string => c !== undefined && !ids.has(c)));
  return wanted.size === 0 ? picked : all.filter((s) => ids.has(s.id) || wanted.has(s.id));
}
