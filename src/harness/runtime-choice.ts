/** Picking a runtime: `auto` takes containers when a Docker engine answers, else a local binary, else says what to install. */
import { StartError } from '../errors.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import { processRuntime } from '../runtimes/process.js';
import type { Runtime } from '../runtimes/runtime.js';

export type RuntimeChoice = 'auto' | 'process' | 'container';

export async function resolveRuntime(choice: RuntimeChoice, adapter: GatewayAdapter, image?: string): Promise<{ runtime: Runtime; image?: string }> {
  const candidates: Runtime[] = [];
  if (choice === 'container' || choice === 'auto') {
    const { containerRuntime } = await import('../runtimes/container.js');
    candidates.push(containerRuntime);
  }
  if (choice === 'process' || choice === 'auto') candidates.push(processRuntime);
  const reasons: string[] = [];
  for (const r of candidates) {
    const a = await r.available(adapter, image);
    if (a.ok) return { runtime: r, image: a.image };
    reasons.push(`${r.kind}: ${a.why}`);
  }
  throw new StartError(
    'BG_NO_RUNTIME',
    `cannot run ${adapter.id}: ${reasons.join(' ')}${choice === 'auto' ? ' Install one of them (or choose with --runtime process|container).' : ''}`,
  );
}
