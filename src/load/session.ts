/**
 * What a load run starts: the chaos upstream with one route per fault of the mix
 * (`/s/load/<fault>` → that fault), a gateway in front of it with one route (`/s/load/`,
 * pooling its upstream connections unless told not to), or the user's own config. The same
 * parts as the harness's session (src/harness/execute.ts), on one disposal stack, without the
 * scenario plan: a load run has a mix, not scenarios.
 */
import { join } from 'node:path';
import type { Catalogue } from '../faults/registry.js';
import type { GatewayAdapter, RenderedConfig } from '../gateways/gateway.js';
import { READY_PATH, routePath } from '../gateways/paths.js';
import { startChaos } from '../harness/chaos.js';
import { DisposalStack } from '../harness/disposal.js';
import { DEFAULT_TIMEOUTS, freePort, untilOr } from '../harness/execute.js';
import { startLogSink } from '../harness/log-sink.js';
import { makePrefix, removePrefix } from '../runtimes/files.js';
import { resolveRuntime, type RuntimeChoice } from '../runtimes/index.js';
import type { RunningGateway } from '../runtimes/runtime.js';
import type { LoadMixEntry } from './mix.js';

export const LOAD_ROUTE = 'load';

/** The request path that reaches `fault` through the gateway (and, passed on unchanged, on the upstream). */
export function loadPath(fault: string): string {
  return `${routePath(LOAD_ROUTE)}${fault}`;
}

/**
 * Each mix entry's path: `/s/load/<fault>`, and `/s/load/<fault>/<n>` for the n-th entry of a
 * fault already in the mix with other parameters (a scenario's, a sweep's), so each reaches its own.
 */
export function loadPaths(mix: readonly LoadMixEntry[]): string[] {
  const seen = new Map<string, number>();
  return mix.map((e) => {
    const n = (seen.get(e.fault) ?? 0) + 1;
    seen.set(e.fault, n);
    return n === 1 ? loadPath(e.fault) : `${loadPath(e.fault)}/${n}`;
  });
}

export interface LoadSessionOptions {
  readonly adapter: GatewayAdapter;
  readonly catalogue: Catalogue;
  readonly mix: readonly LoadMixEntry[];
  readonly runtime?: RuntimeChoice;
  readonly image?: string;
  readonly userConfig?: { readonly file: string; readonly text: string };
  /** The gateway keeps idle upstream connections and reuses them (default true): where the keep-alive race lives. */
  readonly keepalive?: boolean;
  readonly signal?: AbortSignal;
}

export interface LoadSession {
  readonly gateway: RunningGateway;
  close(): Promise<void>;
}

export async function startLoadSession(opts: LoadSessionOptions): Promise<LoadSession> {
  const { adapter } = opts;
  const host = '127.0.0.1';
  const stack = new DisposalStack();
  const onAbort = () => void stack.dispose().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const close = async () => {
    opts.signal?.removeEventListener('abort', onAbort);
    await stack.dispose();
  };
  try {
    opts.signal?.throwIfAborted();
    const chosen = await untilOr(resolveRuntime(opts.runtime ?? 'auto', adapter, opts.image), opts.signal);
    opts.signal?.throwIfAborted();
    const { runtime, image } = chosen!;
    const chaos = stack.use(
      await startChaos({
        host,
        catalogue: opts.catalogue,
        // Longest prefix first: routes match in order, and /s/load/slow-response is a prefix of /s/load/slow-response-under-timeout.
        routes: loadPaths(opts.mix)
          .map((path, i) => ({ pathPrefix: path, fault: opts.mix[i]!.fault, ...(opts.mix[i]!.params ? { params: opts.mix[i]!.params } : {}) }))
          .sort((a, b) => b.pathPrefix.length - a.pathPrefix.length),
        defaultFault: 'healthy',
        faultPaths: false,
        faultHeader: false,
        listenerFaults: [],
        dnsPort: false,
        control: false,
      }),
    );
    const healthy = opts.userConfig ? stack.use(await startChaos({ host, catalogue: opts.catalogue, listenerFaults: [], dnsPort: false, control: false, faultHeader: false, faultPaths: false })) : undefined;
    const listen = { host, port: await freePort(host) };
    const prefix = await makePrefix(adapter.id);
    let config: RenderedConfig;
    try {
      const sink = adapter.syslogFile ? stack.use(await startLogSink({ host, file: join(prefix, adapter.syslogFile) })) : undefined;
      const logSink = sink ? { host: sink.host, port: sink.port } : undefined;
      const upstream = { host, port: chaos.upstream.http.port };
      config = opts.userConfig
        ? adapter.fromUserConfig(opts.userConfig.text, opts.userConfig.file, { listen, prefix, upstream, healthy: { host, port: healthy!.upstream.http.port }, logSink })
        : adapter.render({ listen, prefix, routes: [{ id: LOAD_ROUTE, target: { kind: 'tcp', ...upstream }, keepalive: opts.keepalive ?? true }], timeouts: DEFAULT_TIMEOUTS, logSink });
    } catch (err) {
      await removePrefix(prefix);
      throw err;
    }
    // The runtime stops the gateway (and removes its log) when its signal aborts: linked to the
    // run's signal only while it starts, so a Ctrl-C during the run still finds the log to report.
    const starting = new AbortController();
    const link = () => starting.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', link, { once: true });
    let gateway;
    try {
      gateway = stack.use(await runtime.start({ adapter, config, prefix, listen, readyPath: opts.userConfig ? undefined : READY_PATH, signal: starting.signal, image }));
    } finally {
      opts.signal?.removeEventListener('abort', link);
    }
    opts.signal?.throwIfAborted();
    // Started: from here an abort stops the generator, and the runner reads the gateway's log
    // (the partial report needs it) before it closes the session itself.
    opts.signal?.removeEventListener('abort', onAbort);
    return { gateway, close };
  } catch (err) {
    await close();
    throw err;
  }
}
