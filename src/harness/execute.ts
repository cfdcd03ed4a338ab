/**
 * Execute: the I/O of a run through one gateway. Starts the chaos side the plan asks for, the
 * gateway in front of it, and probes scenarios through it. Everything started sits on one
 * disposal stack, unwound by close(), by an abort, or when starting fails half-way.
 */
import { rmSync } from 'node:fs';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Catalogue } from '../faults/registry.js';
import type { LogEntry, RenderedConfig } from '../gateways/gateway.js';
import { READY_PATH, routePath } from '../gateways/paths.js';
import { h2Probe } from '../probe/h2-probe.js';
import { probe } from '../probe/http-probe.js';
import { makePrefix, removePrefix } from '../runtimes/files.js';
import { resolveRuntime, type RuntimeChoice } from '../runtimes/index.js';
import type { RunningGateway } from '../runtimes/runtime.js';
import type { Scenario } from '../scenarios/scenario.js';
import { freePort } from '../upstream/listen.js';
import { BadgatewayError } from '../errors.js';
import { attribute } from './attribute.js';
import { missingBackends, startBackends, withBackendSkips } from './backends.js';
import { startChaos } from './chaos.js';
import { DisposalStack } from './disposal.js';
import type { ProbeRun } from './judge.js';
import { startLogSink } from './log-sink.js';
import { mapLimit } from './pool.js';
import { processParams, restartsWithin } from '../process/behavior.js';
import { startSupervisor, type StartedSupervisor } from '../process/supervisor.js';
import { gatewayRoutes, heldDnsBehavior, listenerFaultPaths, needsH2Listen, ownUpstreams, probeRequest, scenarioDnsLabel, type RunPlan } from './plan.js';
import { poolProcesses, poolUpstreams, recoverAfter } from './upstream-pool.js';
import { createRunPki } from '../tls/pki.js';

export { freePort } from '../upstream/listen.js';

export interface Timeouts {
  readonly connectMs: number;
  readonly readMs: number;
  readonly sendMs: number;
  readonly resolverMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 1000, readMs: 1000, sendMs: 1000, resolverMs: 1000 };

export interface SessionOptions {
  readonly catalogue: Catalogue;
  readonly runtime?: RuntimeChoice;
  /** The container image (container runtime only). */
  readonly image?: string;
  /** The user's own gateway config, with placeholders (see the adapter). */
  readonly userConfig?: { readonly file: string; readonly text: string };
  readonly timeouts?: Partial<Timeouts>;
  readonly signal?: AbortSignal;
}

/** What an external run (src/harness/external.ts) drove: reports record it, and `judge` reads runId back. */
export interface ExternalInfo {
  /** In every probe's X-Request-Id (bg-<runId>-<n>) and ?bgr= tag. */
  readonly runId: string;
  readonly url: string;
  /** Where the chaos upstream was, in words. */
  readonly upstream: string;
  /** Where the gateway's log came from; absent: none, so reasons were not checked. */
  readonly log?: string;
}

/** A gateway running in front of its chaos side, ready to be probed. */
export interface GatewaySession extends AsyncDisposable {
  readonly plan: RunPlan;
  readonly gateway: RunningGateway;
  /** The external runtime's session: what it drove. */
  readonly external?: ExternalInfo;
  /** Send a scenario's request(s) through the gateway; each gets a fresh probe number. */
  probe(s: Scenario, signal?: AbortSignal): Promise<ProbeRun>;
  /** The gateway's log so far, attributed to probe numbers. */
  logsByProbe(): Promise<Map<number, LogEntry[]>>;
  /**
   * After the gateway died: keep its log lines, remove what it left, and start it again on the
   * same address with the same config (`gateway` is then the new one).
   */
  restart(): Promise<void>;
  close(): Promise<void>;
  /** This process is exiting and cannot wait for close(): kill the gateway and remove its files, synchronously. */
  abandon(): void;
}


/** Waits for `p`, or until the signal aborts, whichever comes first (the caller checks which). */
export async function untilOr<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return undefined;
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((resolve) => (onAbort = () => resolve(undefined)));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export async function startSession(planned: RunPlan, opts: SessionOptions): Promise<GatewaySession> {
  const { adapter } = planned;
  let plan = planned;
  const host = '127.0.0.1';
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const stack = new DisposalStack();
  const onAbort = () => void stack.dispose().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const close = async () => {
    opts.signal?.removeEventListener('abort', onAbort);
    await stack.dispose();
  };
  try {
    opts.signal?.throwIfAborted();
    // Finding the runtime may pull an image for minutes: an abort does not wait for it.
    const chosen = await untilOr(resolveRuntime(opts.runtime ?? 'auto', adapter, opts.image), opts.signal);
    opts.signal?.throwIfAborted();
    const { runtime, image } = chosen!;
    // Backend scenarios this host or runtime cannot run are skipped, with the reason.
    plan = withBackendSkips(plan, runtime.kind, await missingBackends(plan));

    const runDir = await mkdtemp(join(tmpdir(), 'badgateway-run-'));
    await chmod(runDir, 0o755);
    stack.defer(() => removePrefix(runDir));
    const unixPath = plan.needsUnix ? join(runDir, 'upstream.sock') : undefined;
    const fastcgiUnixPath = plan.needsFastcgiUnix ? join(runDir, 'fastcgi.sock') : undefined;
    // A CA of the run's own and its certificates, in the run dir (a container gateway has it mounted).
    const pki = plan.needsTls ? await createRunPki(runDir) : undefined;
    const chaos = stack.use(
      await startChaos({
        host,
        catalogue: opts.catalogue,
        routes: plan.upstreamRoutes,
        defaultFault: 'healthy',
        faultPaths: false,
        faultHeader: false,
        listenerFaults: plan.listenerFaults,
        // A unix-socket listener fault (fcgi-pool-full) listens in the run dir, which a container gateway has mounted.
        listenerFaultPaths: listenerFaultPaths(plan, runDir),
        unixPath,
        fastcgiPort: plan.needsFastcgi ? 0 : undefined,
        fastcgiUnixPath,
        ...(pki ? { tls: { pki }, tlsPort: plan.needsTlsPort ? 0 : undefined } : {}),
        h2Port: plan.needsH2 ? 0 : undefined,
        h2TlsPort: plan.needsH2TlsPort ? 0 : undefined,
        // A user's config names one upstream port; the suite's routes are dealt out over several (plan.sharedListeners).
        extraListeners: opts.userConfig ? 0 : plan.sharedListeners - 1,
        dnsPort: plan.needsDns ? 0 : false,
        control: false,
      }),
    );
    // A gateway in a container runs as another user: the sockets must be writable by anyone.
    if (unixPath) await chmod(unixPath, 0o666);
    if (fastcgiUnixPath) await chmod(fastcgiUnixPath, 0o666);
    // Real application servers (php-fpm, gunicorn), one per backend scenario.
    const backends = await startBackends(plan, runDir, stack);
    // Each DNS scenario's own name, answering as its fault does at time 0 until its first request.
    for (const s of plan.scenarios) {
      const label = scenarioDnsLabel(s);
      if (label !== undefined && s.faultDef.layer === 'dns') chaos.dns!.setRecord(label, heldDnsBehavior(s.faultDef.dns));
    }
    // A second upstream that always answers healthy, for retry/failover configs ({{healthy}}).
    const healthy = opts.userConfig ? stack.use(await startChaos({ host, catalogue: opts.catalogue, listenerFaults: [], dnsPort: false, control: false, faultHeader: false, faultPaths: false })) : undefined;

    // Keepalive routes of a gateway that shares connection pools by address: an upstream each (ownUpstreams).
    const ownHttpPorts = new Map<string, number>();
    for (const s of opts.userConfig ? [] : ownUpstreams(plan)) {
      const own = stack.use(
        await startChaos({
          host,
          catalogue: opts.catalogue,
          routes: plan.upstreamRoutes.filter((r) => r.pathPrefix === routePath(s.id).slice(0, -1)),
          defaultFault: 'healthy',
          faultPaths: false,
          faultHeader: false,
          listenerFaults: [],
          dnsPort: false,
          control: false,
        }),
      );
      ownHttpPorts.set(s.id, own.upstream.http.port);
    }
    // Each exchange member of a pool: an upstream of its own, so the gateway sees distinct servers.
    const poolPorts = new Map<string, number>();
    for (const m of opts.userConfig ? [] : poolUpstreams(plan.scenarios)) {
      const own = stack.use(await startChaos({ host, catalogue: opts.catalogue, routes: [m.route], defaultFault: 'healthy', faultPaths: false, faultHeader: false, listenerFaults: [], dnsPort: false, control: false }));
      poolPorts.set(m.key, own.upstream.http.port);
      stack.defer(recoverAfter(own.upstream, m));
    }
    // Each process scenario's backend, supervised: started at once (each is a node start-up), each on
    // the stack as soon as it is up, so one failing or an abort still stops the others. The run
    // directory on their command lines lets a test find any that outlived the run.
    // A pool's process members get one each too; a member may see every request of the scenario.
    const supervisors: StartedSupervisor[] = [];
    const processPorts = new Map<string, number>();
    const backendsToSupervise = [
      ...plan.processScenarios.map((s) => ({ s, fault: s.faultDef, params: s.params, set: (port: number) => processPorts.set(s.id, port) })),
      ...(opts.userConfig ? [] : poolProcesses(plan.scenarios)).map(({ key, scenario: s, member: m }) => ({ s, fault: m.faultDef, params: m.params, set: (port: number) => poolPorts.set(key, port) })),
    ];
    const supervised = await Promise.allSettled(
      backendsToSupervise.map(({ s, fault: def, params }) => {
        const fault = def as Extract<typeof def, { layer: 'process' }>;
        const standbys = restartsWithin(fault.process, processParams(fault, params), s.sequence?.count ?? 1);
        return startSupervisor({ fault, params, host, standbys, tag: `badgateway-backend:${runDir}` });
      }),
    );
    let failed: unknown;
    for (const [i, r] of supervised.entries()) {
      if (r.status === 'rejected') {
        failed ??= r.reason;
        continue;
      }
      supervisors.push(r.value);
      backendsToSupervise[i]!.set(r.value.port);
      try {
        stack.use(r.value);
      } catch (err) {
        failed ??= err;
      }
    }
    if (failed !== undefined) throw failed;
    const routes = gatewayRoutes(plan, {
      backends: backends.routes,
      poolPorts,
      processPorts,
      ownHttpPorts,
      host,
      httpPort: chaos.upstream.http.port,
      httpPorts: chaos.upstream.httpPorts,
      fastcgiPorts: chaos.upstream.fastcgiPorts,
      h2Ports: chaos.upstream.h2Ports,
      unixPath,
      fastcgiPort: chaos.upstream.listeners.find((l) => l.name === 'fastcgi')?.port,
      fastcgiUnixPath,
      h2Port: chaos.upstream.listeners.find((l) => l.name === 'h2')?.port,
      h2TlsPort: chaos.upstream.listeners.find((l) => l.name === 'h2-tls')?.port,
      listenerPorts: new Map(chaos.upstream.listeners.filter((l) => l.fault !== undefined && l.kind === 'tcp').map((l) => [l.fault!, l.port!])),
      listenerPaths: new Map(chaos.upstream.listeners.filter((l) => l.fault !== undefined && l.kind === 'unix').map((l) => [l.fault!, l.path!])),
      dnsName: chaos.dns ? (label) => chaos.dns!.nameFor(label) : undefined,
      tlsPort: chaos.upstream.listeners.find((l) => l.name === 'tls')?.port,
      tls: pki,
    });
    let listen = { host, port: await freePort(host) };
    // gRPC calls reach the gateway over h2c on a listener of their own; the main one stays HTTP/1.x.
    let h2Listen = needsH2Listen(plan) ? { host, port: await freePort(host) } : undefined;
    const resolver = chaos.dns ? { host: chaos.dns.host, port: chaos.dns.port } : undefined;
    // The gateway, in a prefix of its own: again on the same address after a crash (restart()).
    const launch = async (): Promise<RunningGateway> => {
      const prefix = await makePrefix(adapter.id);
      let config: RenderedConfig;
      try {
        // A gateway that logs over syslog gets a socket of ours, open before its config names it.
        // On the stack before the gateway, so it closes after the gateway has stopped.
        const sink = adapter.syslogFile ? stack.use(await startLogSink({ host, file: join(prefix, adapter.syslogFile) })) : undefined;
        const logSink = sink ? { host: sink.host, port: sink.port } : undefined;
        config = opts.userConfig
          ? adapter.fromUserConfig(opts.userConfig.text, opts.userConfig.file, { listen, prefix, upstream: { host, port: chaos.upstream.http.port }, healthy: { host, port: healthy!.upstream.http.port }, resolver, logSink })
          : adapter.render({ listen, prefix, routes, resolver, timeouts, logSink, ...(h2Listen ? { h2Listen } : {}) });
      } catch (err) {
        await removePrefix(prefix);
        throw err;
      }
      return stack.use(
        await runtime.start({ adapter, config, prefix, listen, readyPath: opts.userConfig ? undefined : READY_PATH, signal: opts.signal, image, extraMounts: [runDir] }),
      );
    };
    // A port another process took between freePort() and the gateway's bind: new ports, up to twice more.
    let gateway: RunningGateway;
    for (let attempt = 1; ; attempt++) {
      try {
        gateway = await launch();
        break;
      } catch (err) {
        if (attempt >= 3 || !(err instanceof BadgatewayError && err.code === 'BG_ADDRESS_IN_USE')) throw err;
        listen = { host, port: await freePort(host) };
        if (h2Listen) h2Listen = { host, port: await freePort(host) };
      }
    }
    // What the gateways before a restart logged, attributed apart: their connection ids start over.
    const earlier: Array<Map<number, LogEntry[]>> = [];

    let counter = 0;
    return {
      plan,
      get gateway() {
        return gateway;
      },
      async probe(s, signal = opts.signal) {
        const count = s.sequence?.count ?? 1;
        const numbers = Array.from({ length: count }, () => ++counter);
        // The scenario's timing is its own requests': before request i goes out, a flap is set
        // to the phase of that request's planned time (i × spacing after the first), so a request
        // the event loop sends late still meets its own phase, not a later one.
        const label = scenarioDnsLabel(s);
        const def = s.faultDef;
        const atPlan = (i: number) => {
          if (label !== undefined && def.layer === 'dns') chaos.dns?.setRecord(label, def.dns, { elapsedMs: i * (s.sequence?.spacingMs ?? 0) });
        };
        atPlan(0);
        const begin = performance.now();
        const outcomes = await mapLimit(
          numbers,
          s.sequence?.concurrency ?? 1,
          async (n, i) => {
            const due = begin + i * (s.sequence?.spacingMs ?? 0) - performance.now();
            if (due > 0) await sleep(due, undefined, { signal });
            // With requests in flight at once the plan is their schedule only; the clock then runs on.
            if ((s.sequence?.concurrency ?? 1) === 1) atPlan(i);
            return s.request.grpc ? h2Probe(probeRequest(s, n, h2Listen!)) : probe(probeRequest(s, n, gateway));
          },
          signal,
        );
        return { scenario: s, numbers, outcomes, durationMs: Math.round(performance.now() - begin) };
      },
      async logsByProbe() {
        const all = new Map<number, LogEntry[]>();
        for (const m of [...earlier, attribute(adapter, await gateway.readLogs())]) for (const [n, entries] of m) all.set(n, [...(all.get(n) ?? []), ...entries]);
        return all;
      },
      async restart() {
        opts.signal?.throwIfAborted();
        const dead = gateway;
        earlier.push(attribute(adapter, await dead.readLogs()));
        await dead.close();
        gateway = await launch();
      },
      close,
      [Symbol.asyncDispose]: close,
      abandon() {
        try {
          gateway.abandon();
        } finally {
          try {
            backends.abandon();
            for (const sup of supervisors) sup.abandon();
          } finally {
            rmSync(runDir, { recursive: true, force: true });
          }
        }
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
