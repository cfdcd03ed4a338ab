/**
 * The registry of runtimes: one file per runtime, one line per file here. `auto` tries them in
 * this order. Each is loaded when first asked for (the container runtime pulls in testcontainers).
 * src/runtimes/registry.test.ts fails when a runtime file is not listed.
 */
import { InputError, StartError } from '../errors.js';
import { runtimeRefusal } from '../gateways/profile.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import type { Runtime } from './runtime.js';

export interface RuntimeEntry {
  readonly id: string;
  /** One line for --help. */
  readonly describe: string;
  load(): Promise<Runtime>;
}

export const RUNTIMES = [
  { id: 'container', describe: 'a container on the host network (Docker engine; the official image, else the local one)', load: async () => (await import('./container.js')).default },
  { id: 'process', describe: "the gateway's own binary from PATH, as a child process", load: async () => (await import('./process.js')).default },
  { id: 'external', describe: 'a gateway already running that routes /s/ to the chaos upstream (--url, --upstream-listen or --upstream-control); never picked by auto', load: async () => (await import('./external.js')).default },
] as const satisfies readonly RuntimeEntry[];

export type RuntimeKind = (typeof RUNTIMES)[number]['id'];
export type RuntimeChoice = 'auto' | RuntimeKind;
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ['auto', ...RUNTIMES.map((r) => r.id)];

/** `auto` takes the first runtime (in registry order) that can run the gateway, else says what to install. */
export async function resolveRuntime(choice: RuntimeChoice, adapter: GatewayAdapter, image?: string): Promise<{ runtime: Runtime; image?: string }> {
  const refused = runtimeRefusal(adapter, choice);
  if (refused) throw new InputError('BG_RUNTIME_UNSUPPORTED', refused);
  const reasons: string[] = [];
  for (const entry of RUNTIMES) {
    if (choice !== 'auto' && choice !== entry.id) continue;
    // An external gateway is named by its URL, never found.
    if (choice === 'auto' && entry.id === 'external') continue;
    const r = await entry.load();
    const a = await r.available(adapter, image);
    if (a.ok) return { runtime: r, image: a.image };
    reasons.push(`${r.kind}: ${a.why}`);
  }
  throw new StartError(
    'BG_NO_RUNTIME',
    `cannot run ${adapter.id}: ${reasons.join(' ')}${choice === 'auto' ? ` Install one of them (or choose with --runtime ${RUNTIMES.map((r) => r.id).join('|')}).` : ''}`,
  );
}
