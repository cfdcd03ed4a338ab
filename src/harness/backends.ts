/**
 * The harness side of backend scenarios (a real php-fpm or gunicorn as the upstream): which of
 * them a session can run, and starting each one's server on the session's disposal stack.
 */
import { join } from 'node:path';
import { backendMissing, startBackend, type RunningBackend } from '../backends/index.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { DisposalStack } from './disposal.js';
import type { BackendRoute, RunPlan } from './plan.js';

/** Why a session of this runtime cannot run a backend scenario, given which backends are missing; undefined when it can. Pure. */
export function backendSkip(s: Scenario, runtime: string, missing: ReadonlyMap<string, string>): string | undefined {
  if (!s.backend) return undefined;
  const why = missing.get(s.backend.kind);
  if (why !== undefined) return why;
  // The server runs on the host; a containerised gateway could reach it (host network, the run
  // directory's mount), but its expectations were measured with the host's gateways only.
  if (runtime !== 'process') return `runs a real ${s.backend.kind} on the host, and its expectations were measured through the host's gateways (process runtime) only, not through ${runtime} images`;
  return undefined;
}

/** The plan with the backend scenarios this session cannot run moved to its skipped list. Pure. */
export function withBackendSkips(plan: RunPlan, runtime: string, missing: ReadonlyMap<string, string>): RunPlan {
  const skipped = plan.scenarios.map((s) => ({ scenario: s, why: backendSkip(s, runtime, missing) })).filter((x): x is { scenario: Scenario; why: string } => x.why !== undefined);
  if (skipped.length === 0) return plan;
  const out = new Set(skipped.map((x) => x.scenario));
  return { ...plan, scenarios: plan.scenarios.filter((s) => !out.has(s)), skipped: [...plan.skipped, ...skipped] };
}

/** Which backend kinds the plan's scenarios need and this host lacks (their binaries), with why. */
export async function missingBackends(plan: RunPlan): Promise<Map<string, string>> {
  const kinds = [...new Set(plan.scenarios.flatMap((s) => (s.backend ? [s.backend.kind] : [])))];
  const out = new Map<string, string>();
  for (const k of kinds) {
    const why = await backendMissing(k);
    if (why !== undefined) out.set(k, why);
  }
  return out;
}


export interface StartedBackends {
  readonly routes: ReadonlyMap<string, BackendRoute>;
  /** Kill every backend's process group and remove its directory, synchronously. */
  abandon(): void;
}

/**
 * Starts each backend scenario's server in a directory of its own under the run directory, every
 * one on the stack the moment it has started (so a failure or an abort stops those already up).
 */
export async function startBackends(plan: RunPlan, runDir: string, stack: DisposalStack): Promise<StartedBackends> {
  const started: RunningBackend[] = [];
  const routes = new Map<string, BackendRoute>();
  const list = plan.scenarios.filter((s) => s.backend !== undefined);
  // Short names: a unix socket path must fit in 108 bytes.
  const settled = await Promise.allSettled(
    list.map(async (s, i) => {
      const b = await startBackend(s.backend!, join(runDir, `b${i}`));
      started.push(b);
      stack.use(b);
      routes.set(s.id, { target: b.address, protocol: b.protocol, ...(b.scriptFilename !== undefined ? { scriptFilename: b.scriptFilename } : {}) });
    }),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return {
    routes,
    abandon() {
      for (const b of started) b.abandon();
    },
  };
}
