/**
 * The external runtime: a gateway that is already running somewhere (a staging nginx, an
 * ingress controller, an ALB) and already routes /s/<scenario>/ to the chaos upstream. Nothing
 * is started or stopped on the gateway's side: the run starts the chaos upstream on the address
 * the gateway is configured for (`--upstream-listen`), or checks over the control API that an
 * upstream deployed with `badgateway serve --suite` serves the same suite (`--upstream-control`),
 * then probes URL/s/<scenario>/ and reads the gateway's log from where it is.
 *
 * Only what that topology can express runs: exchange faults routed by path over HTTP/1.1.
 * Listener and DNS faults need an address of their own: they run only where the user maps them
 * to a URL of the gateway (`--listener-url FAULT=URL`); every other scenario is skipped, saying why.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, StartError } from '../errors.js';
import type { Catalogue } from '../faults/registry.js';
import type { GatewayAdapter, LogEntry } from '../gateways/gateway.js';
import { routePath } from '../gateways/paths.js';
import { isLoopback } from '../control/auth.js';
import type { ServedSuite } from '../control/served-suite.js';
import { attribute } from './attribute.js';
import { startChaos, type StartedChaos } from './chaos.js';
import type { ExternalInfo, GatewaySession } from './execute.js';
import { logCommand, tailFile, type GatewayLog } from './gateway-log.js';
import type { ProbeRun } from './judge.js';
import { isFastcgi, planRun, probeRequest, skipReason, type RunPlan } from './plan.js';
import { mapLimit } from './pool.js';
import { newRunId, requestId, runTag, traceRoot } from './request-id.js';
import { tail } from '../runtimes/files.js';
import { probe } from '../probe/http-probe.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { RouteSpec } from '../upstream/upstream.js';
import type { GatewayExit, RunningGateway } from '../runtimes/runtime.js';

export const DEFAULT_HEALTH_PATH = '/healthz';

export interface ExternalOptions {
  /** Where the gateway answers: probes go to URL/s/<scenario>/. http:// only. */
  readonly url: string;
  /** Start the chaos upstream here (the address the gateway routes /s/ to). */
  readonly upstreamListen?: { readonly host: string; readonly port: number };
  /** Or: the control API of an upstream deployed with `badgateway serve --suite`. */
  readonly upstreamControl?: string;
  readonly controlToken?: string;
  /** Listener and DNS faults the user routed through the gateway: fault id → the gateway's URL for it. */
  readonly listenerUrls?: ReadonlyMap<string, string>;
  readonly gatewayLog?: string;
  readonly gatewayLogCmd?: string;
  /** The gateway's version, when its answers do not say it (no Server header, or a managed gateway's). */
  readonly gatewayVersion?: string;
  /** The upstream's health check path (--upstream-listen), as `serve --suite` answers it. */
  readonly healthPath?: string;
}


const WHERE = 'an external gateway routes /s/<scenario>/ to one chaos upstream over HTTP';

/** Why the external topology cannot express this scenario, or undefined when it can. */
export function externalSkipReason(s: Scenario, listenerUrls: ReadonlyMap<string, string> = new Map()): string | undefined {
  if (s.pool) return `a pool needs an address for each of its servers; ${WHERE}`;
  if (s.backend) return `plays a real ${s.backend.kind} on a route of its own; ${WHERE}`;
  const def = s.faultDef;
  if (def.layer === 'listener' || def.layer === 'dns') {
    if (listenerUrls.has(s.fault)) return undefined;
    return `a ${def.layer} fault needs ${def.layer === 'dns' ? 'a DNS name' : 'an address'} of its own; route one through your gateway and map it with --listener-url ${s.fault}=URL`;
  }
  if (def.layer === 'process') return `a process fault is played by a backend process badgateway supervises on this host, not by the upstream your gateway reaches`;
  if (isFastcgi(s)) return `a FastCGI fault needs a FastCGI upstream; ${WHERE}`;
  if (s.tls === true) return `is served over the upstream's TLS listener; ${WHERE}`;
  if (def.protocol !== undefined && def.protocol !== 'http') return `speaks ${def.protocol} to the gateway; ${WHERE}/1.1`;
  if (s.upstream !== 'tcp') return `reaches the upstream by ${s.upstream}; ${WHERE}`;
  return undefined;
}

/** The plan of an external run: the topology's own skips first, then the adapter's. */
export function planExternal(adapter: GatewayAdapter, all: readonly Scenario[], listenerUrls: ReadonlyMap<string, string> = new Map()): RunPlan {
  const outside: Array<{ scenario: Scenario; why: string }> = [];
  const inside: Scenario[] = [];
  for (const s of all) {
    const why = externalSkipReason(s, listenerUrls);
    if (why === undefined) inside.push(s);
    else outside.push({ scenario: s, why });
  }
  const plan = planRun(adapter, inside, { userConfig: false });
  return { ...plan, skipped: [...outside, ...plan.skipped], listenerFaults: [], needsUnix: false, needsDns: false, needsFastcgi: false, needsFastcgiUnix: false, needsTls: false, needsTlsPort: false, needsH2: false };
}

/** The routes an upstream serves for a suite (what `serve --suite` and `--upstream-listen` serve alike), and its health check. */
export function suiteRoutes(scenarios: readonly Scenario[], healthPath = DEFAULT_HEALTH_PATH): RouteSpec[] {
  const routed = scenarios.filter((s) => externalSkipReason(s) === undefined);
  return [{ pathPrefix: healthPath, fault: 'healthy' }, ...routed.map((s) => ({ pathPrefix: routePath(s.id).slice(0, -1), fault: s.fault, params: s.params }))];
}

export function servedSuite(scenarios: readonly Scenario[], healthPath = DEFAULT_HEALTH_PATH): ServedSuite {
  const routed = scenarios.filter((s) => externalSkipReason(s) === undefined).map((s) => ({ id: s.id, fault: s.fault, ...(s.params ? { params: s.params } : {}) }));
  const listenerFaults = [...new Set(scenarios.filter((s) => !s.pool && s.faultDef.layer === 'listener' && s.faultDef.socket !== 'unix').map((s) => s.fault))];
  const digest = createHash('sha256').update(JSON.stringify(routed)).digest('hex');
  return { digest, healthPath, scenarios: routed, listenerFaults };
}

/** The checks on flags that need no network: run before anything starts. */
export function checkExternalOptions(ext: ExternalOptions): URL {
  let url: URL;
  try {
    url = new URL(ext.url);
  } catch {
    throw new InputError('BG_BAD_FLAG', `--url ${ext.url} is not a URL; give the gateway's address, e.g. --url http://127.0.0.1:8080 (probes go to URL/s/<scenario>/).`);
  }
  if (url.protocol !== 'http:') {
    throw new InputError('BG_BAD_FLAG', `--url ${ext.url}: the probes speak plain HTTP/1.1 (they read the raw bytes a gateway answers), so give the gateway's http:// listener.`);
  }
  if ((ext.upstreamListen === undefined) === (ext.upstreamControl === undefined)) {
    throw new InputError(
      'BG_BAD_FLAG',
      'the external runtime needs the chaos upstream your gateway routes to, one way: --upstream-listen HOST:PORT (this run starts it there) or --upstream-control URL (one you deployed with badgateway serve --suite DIR).',
    );
  }
  if (ext.healthPath !== undefined && !ext.healthPath.startsWith('/')) {
    throw new InputError('BG_BAD_FLAG', `--health-path ${JSON.stringify(ext.healthPath)}: give a path starting with /, e.g. --health-path /healthz.`);
  }
  if (ext.gatewayLog !== undefined && ext.gatewayLogCmd !== undefined) {
    throw new InputError('BG_BAD_FLAG', '--gateway-log and --gateway-log-cmd were both given; give the log one way: a file this machine can read, or a command that prints it.');
  }
  if (ext.upstreamListen && !isLoopback(ext.upstreamListen.host) && ext.controlToken === undefined) {
    throw new InputError(
      'BG_CONTROL_TOKEN_REQUIRED',
      `--upstream-listen ${ext.upstreamListen.host}:${ext.upstreamListen.port} is beyond loopback, and the run starts the upstream's control API there too: set BADGATEWAY_CONTROL_TOKEN or pass --control-token-file FILE, so only you can change what the upstream does.`,
    );
  }
  if (ext.upstreamControl !== undefined) {
    let cu: URL;
    try {
      cu = new URL(ext.upstreamControl);
    } catch {
      throw new InputError('BG_BAD_FLAG', `--upstream-control ${ext.upstreamControl} is not a URL; give the control API's address as badgateway serve printed it, e.g. http://10.0.0.5:8081.`);
    }
    if (!isLoopback(cu.hostname) && ext.controlToken === undefined) {
      throw new InputError(
        'BG_CONTROL_TOKEN_REQUIRED',
        `--upstream-control ${ext.upstreamControl} is beyond loopback, and a control API there answers only with its token: set BADGATEWAY_CONTROL_TOKEN or pass --control-token-file FILE (the token the upstream was started with).`,
      );
    }
  }
  for (const [fault, u] of ext.listenerUrls ?? []) {
    try {
      if (new URL(u).protocol !== 'http:') throw new Error('not http');
    } catch {
      throw new InputError('BG_BAD_FLAG', `--listener-url ${fault}=${u}: give the gateway's http:// URL that routes to where ${fault} listens.`);
    }
  }
  return url;
}

/** `--listener-url FAULT=URL` (repeatable) into a map; the fault must be a listener or DNS fault. */
export function parseListenerUrls(specs: readonly string[] | undefined, catalogue: Catalogue): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of specs ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new InputError('BG_BAD_FLAG', `--listener-url ${spec}: expected FAULT=URL, e.g. --listener-url connect-refused=http://127.0.0.1:8080/refused/`);
    const fault = spec.slice(0, eq).trim();
    const layer = catalogue.get(fault).layer;
    if (layer === 'exchange') throw new InputError('BG_BAD_FLAG', `--listener-url ${spec}: ${fault} is an exchange fault, already reached at URL/s/<scenario>/; only listener and DNS faults are mapped.`);
    out.set(fault, spec.slice(eq + 1));
  }
  return out;
}

/** The host (an IPv6 address without its brackets) and port an http:// URL connects to. */
function addressOf(url: URL): { host: string; port: number } {
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

async function reachable(url: URL, signal?: AbortSignal): Promise<void> {
  const { host, port } = addressOf(url);
  const err = await new Promise<Error | undefined>((resolve) => {
    const sock = connect({ host, port, timeout: 5000 });
    sock.once('connect', () => (sock.destroy(), resolve(undefined)));
    sock.once('timeout', () => (sock.destroy(), resolve(new Error('no answer within 5 s'))));
    sock.once('error', (e) => resolve(e));
    // destroy() with an error: without one the socket only closes, and nothing above would settle.
    const abort = () => sock.destroy(new Error('interrupted'));
    signal?.addEventListener('abort', abort, { once: true });
    sock.once('close', () => signal?.removeEventListener('abort', abort));
  });
  signal?.throwIfAborted();
  if (err) throw new StartError('BG_EXTERNAL_UNREACHABLE', `nothing answers at --url ${url.href} (${(err as NodeJS.ErrnoException).code ?? err.message}). Start the gateway first, with a route from /s/ to the chaos upstream; the external runtime starts nothing on the gateway's side.`);
}

async function fetchSuite(control: string, token: string | undefined): Promise<ServedSuite> {
  const at = `--upstream-control ${control}`;
  let res: Response;
  try {
    res = await fetch(new URL('/api/suite', control), { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    throw new StartError('BG_EXTERNAL_UNREACHABLE', `${at}: no control API answers there (${cause?.code ?? (err as Error).message}). Start the upstream with badgateway serve --suite DIR (its listing prints the control URL), and make that address reachable from here.`);
  }
  const body = await res.text();
  if (res.status === 401) throw new StartError('BG_UPSTREAM_SUITE_MISMATCH', `${at} refused the ${token ? 'token given' : 'request without a token'} (401). Give the token the upstream was started with: BADGATEWAY_CONTROL_TOKEN or --control-token-file FILE.`);
  if (res.status === 404) throw new StartError('BG_UPSTREAM_SUITE_MISMATCH', `${at} serves no suite: that upstream was started without --suite. Start it with badgateway serve --suite DIR (the same suite as this run's).`);
  if (!res.ok) throw new StartError('BG_UPSTREAM_SUITE_MISMATCH', `${at} answered ${res.status}: ${body.slice(0, 200)}`);
  let suite: ServedSuite | undefined;
  try {
    suite = (JSON.parse(body) as { suite?: ServedSuite }).suite;
  } catch {
    /* not JSON: said below */
  }
  if (!suite || !Array.isArray(suite.scenarios)) throw new StartError('BG_UPSTREAM_SUITE_MISMATCH', `${at} answered GET /api/suite with something other than a served suite (${JSON.stringify(body.slice(0, 120))}): is that the control API of badgateway serve --suite, and not another service on that port?`);
  return suite;
}

/** The differences between what this run needs and what the deployed upstream serves, one phrase each. */
export function suiteDifferences(need: readonly Scenario[], served: ServedSuite): string[] {
  const byId = new Map(served.scenarios.map((s) => [s.id, s]));
  const out: string[] = [];
  for (const s of need) {
    // Only what an upstream routes by path: a mapped listener fault plays wherever the user put it.
    if (externalSkipReason(s) !== undefined) continue;
    const there = byId.get(s.id);
    if (!there) out.push(`${s.id} is not served there`);
    else if (there.fault !== s.fault || JSON.stringify(there.params ?? {}) !== JSON.stringify(s.params ?? {})) {
      const params = (p: Readonly<Record<string, unknown>> | undefined) => (p && Object.keys(p).length ? ` ${JSON.stringify(p)}` : '');
      out.push(`${s.id} plays ${there.fault}${params(there.params)} there, ${s.fault}${params(s.params)} here`);
    }
  }
  return out;
}

export interface ExternalSessionOptions {
  readonly catalogue: Catalogue;
  readonly external: ExternalOptions;
  readonly signal?: AbortSignal;
}

/** Parses a Server header's version: the adapter's own parser first ("nginx/1.22.1"), then any NAME/VERSION. */
export function versionFromServer(adapter: GatewayAdapter, server: string | undefined): string | undefined {
  if (!server) return undefined;
  try {
    const v = adapter.parseVersion(server);
    if (v) return v;
  } catch {
    // Its parser reads `<binary> -v` output; a header is only a try.
  }
  return /\/(\d[\w.+-]*)/.exec(server)?.[1];
}

export async function startExternalSession(plan: RunPlan, opts: ExternalSessionOptions): Promise<GatewaySession> {
  const ext = opts.external;
  const { adapter } = plan;
  const url = checkExternalOptions(ext);
  const runId = newRunId();
  let log: GatewayLog | undefined;
  let chaos: StartedChaos | undefined;
  const close = async () => {
    try {
      await log?.close();
    } finally {
      await chaos?.close();
    }
  };
  try {
    opts.signal?.throwIfAborted();
    // The log first: its lines count from here, before any probe.
    log = ext.gatewayLog !== undefined ? await tailFile(ext.gatewayLog) : ext.gatewayLogCmd !== undefined ? await logCommand(ext.gatewayLogCmd) : undefined;
    const healthPath = ext.healthPath ?? DEFAULT_HEALTH_PATH;
    let upstream: string;
    if (ext.upstreamListen) {
      const { host, port } = ext.upstreamListen;
      chaos = await startChaos({
        host,
        port,
        catalogue: opts.catalogue,
        routes: suiteRoutes(plan.scenarios, healthPath),
        defaultFault: 'healthy',
        faultPaths: false,
        faultHeader: false,
        listenerFaults: [],
        dnsPort: false,
        control: isLoopback(host) ? false : { host, port: 0, token: ext.controlToken },
      });
      upstream = `started on ${host}:${chaos.upstream.http.port}`;
    } else {
      const served = await fetchSuite(ext.upstreamControl!, ext.controlToken);
      const diff = suiteDifferences(plan.scenarios, served);
      if (diff.length > 0) {
        throw new StartError(
          'BG_UPSTREAM_SUITE_MISMATCH',
          `the upstream at --upstream-control ${ext.upstreamControl} serves another suite than this run's: ${diff.slice(0, 5).join('; ')}${diff.length > 5 ? `; and ${diff.length - 5} more` : ''}. Deploy it with this run's suite (badgateway serve --suite DIR), or run with --suite DIR naming the suite it serves.`,
        );
      }
      upstream = `deployed, control API ${ext.upstreamControl} (suite ${served.digest.slice(0, 12)})`;
    }
    await reachable(url, opts.signal);
    const info: ExternalInfo = { runId, url: url.href, upstream, ...(log ? { log: log.source } : {}) };
    const base = url.pathname.replace(/\/+$/, '');
    let seenVersion: string | undefined;
    const gateway: RunningGateway = {
      adapter,
      runtime: 'external',
      get version() {
        return ext.gatewayVersion ?? seenVersion;
      },
      source: url.href,
      ...addressOf(url),
      prefix: '',
      readLogs: async () => (log ? await log.read() : ''),
      logTail: async (lines = 20) => (log ? tail(await log.read(), lines) : ''),
      close,
      // An external gateway's life is not ours to watch: it never "exits" here.
      exited: new Promise<GatewayExit>(() => {}),
      abandon: () => log?.abandon(),
      [Symbol.asyncDispose]: close,
    };
    let counter = 0;
    const requestFor = (s: Scenario, n: number) => {
      const mapped = ext.listenerUrls?.get(s.fault);
      const at = mapped ? new URL(mapped) : url;
      const req = probeRequest(s, n, addressOf(at));
      // Mapped: the user's URL stands for the scenario's route; the request's own path and tags follow it.
      const target = mapped ? `${at.pathname.replace(/\/+$/, '')}${req.target.slice(routePath(s.id).length - 1)}` : `${base}${req.target}`;
      const headers: Array<readonly [string, string]> = [...(req.headers ?? []), ['X-Request-Id', requestId(runId, n)]];
      if (adapter.id === 'alb') headers.push(['X-Amzn-Trace-Id', `Root=${traceRoot(runId, n)}`]);
      return { ...req, target: `${target}&${runTag(runId)}`, headers };
    };
    return {
      plan,
      gateway,
      external: info,
      async probe(s, signal = opts.signal): Promise<ProbeRun> {
        const count = s.sequence?.count ?? 1;
        const numbers = Array.from({ length: count }, () => ++counter);
        const begin = performance.now();
        const outcomes = await mapLimit(
          numbers,
          s.sequence?.concurrency ?? 1,
          async (n, i) => {
            const due = begin + i * (s.sequence?.spacingMs ?? 0) - performance.now();
            if (due > 0) await sleep(due, undefined, { signal });
            const o = await probe(requestFor(s, n));
            seenVersion ??= versionFromServer(adapter, o.headers?.find(([k]) => k.toLowerCase() === 'server')?.[1]);
            return o;
          },
          signal,
        );
        return { scenario: s, numbers, outcomes, durationMs: Math.round(performance.now() - begin), requestIds: numbers.map((n) => requestId(runId, n)) };
      },
      async logsByProbe(): Promise<Map<number, LogEntry[]>> {
        return log ? attribute(adapter, await log.read(), runId) : new Map();
      },
      async restart() {
        throw new StartError('BG_EXTERNAL_UNREACHABLE', `the gateway at ${url.href} is not this run's to restart (external runtime).`);
      },
      close,
      [Symbol.asyncDispose]: close,
      abandon() {
        log?.abandon();
      },
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

/** In the registry for --runtime and --help; `auto` never picks it, and it starts nothing. */
