/**
 * A gateway that dies during a run is a finding, not a broken run. The watcher follows each life
 * of the session's gateway: when one exits on its own it restarts the gateway (new probes wait
 * for it), and once the suite's probes are done it blames the crash on the scenario that was in
 * flight, or, when several were, re-runs them one at a time on the restarted gateway to find
 * the one that kills it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Outcome } from '../probe/http-probe.js';
import type { GatewayExit } from '../runtimes/runtime.js';
import type { Scenario } from '../scenarios/scenario.js';
import type { GatewayCrash } from './crash.js';
import type { GatewaySession } from './execute.js';
import type { ProbeRun } from './judge.js';
import { mapLimit } from './pool.js';

/**
 * How long after a probe's end the gateway may still be heard dying of it: the kernel closes a
 * dead process's sockets (the client sees the reset) before its parent is told of the exit, and
 * Docker tells of a container's exit later still.
 */
export const EXIT_GRACE_MS = 500;

/**
 * The first wave of scenarios (up to --concurrency of them) starts this far apart, not all in one
 * instant: on a loaded 2-core machine ~60 scenarios connecting at once kept the harness's event
 * loop (probe client and chaos upstream both) busy past the gateways' 1 s read timeout, and
 * healthy cases ended in 504 (bench/accept-queue.mjs measures it). Later scenarios start as
 * earlier ones end, already spread. Per gateway probed at once: runSuite multiplies it by their
 * number, since their sessions share the one event loop.
 */
export const FIRST_WAVE_SPACING_MS = 20;

/** A probe run, with the gateway life it ran against and when it ended. */
interface Watched {
  readonly run: ProbeRun;
  readonly life: number;
  readonly endedAt: number;
}

/** Outcomes a crash leaves: no answer, a cut one. Only after these is it worth waiting to hear of an exit. */
function suspicious(outcomes: readonly Outcome[]): boolean {
  return outcomes.some((o) => o.kind !== 'response' || o.body === 'truncated' || o.end === 'reset' || o.end === 'error');
}

export function crashOf(exit: GatewayExit, inFlightWith?: readonly string[]): GatewayCrash {
  return { signal: exit.signal, code: exit.code, lastLogLines: exit.lastLogLines, ...(inFlightWith?.length ? { inFlightWith } : {}) };
}

export class CrashWatcher {
  /** The gateway's current life: 0 at start, one more per restart. */
  private life = 0;
  private readonly exits = new Map<number, { readonly exit: GatewayExit; readonly at: number }>();
  /** Settles when a life ends (never, for the current one, unless it crashes). */
  private readonly ended = new Map<number, Promise<unknown>>();
  private restarting: Promise<void> | undefined;
  private failure: { readonly error: unknown } | undefined;

  constructor(
    private readonly session: GatewaySession,
    private readonly signal?: AbortSignal,
    /** Scenarios expected to crash this gateway: re-run first when several are suspects. */
    private readonly likely: (s: Scenario) => boolean = () => false,
  ) {
    this.watch();
  }

  /** How many times the gateway has died so far. */
  get crashes(): number {
    return this.exits.size;
  }

  private watch(): void {
    const life = this.life;
    this.ended.set(
      life,
      this.session.gateway.exited.then((exit) => {
        if (this.signal?.aborted) return;
        this.exits.set(life, { exit, at: performance.now() });
        this.life = life + 1;
        this.restarting = this.session.restart().then(
          () => {
            this.restarting = undefined;
            this.watch();
          },
          (error: unknown) => {
            this.restarting = undefined;
            this.failure = { error };
          },
        );
      }),
    );
  }

  /** Waits out a restart in progress; throws when the gateway could not be started again. */
  private async ready(): Promise<void> {
    while (this.restarting) await this.restarting;
    if (this.failure) throw this.failure.error;
    this.signal?.throwIfAborted();
  }

  /** True once `life` is known to have ended, waiting at most `ms` to hear of it. */
  private async died(life: number, ms: number): Promise<boolean> {
    // A referenced timer, ended by an abort: after an abort nothing else may hold the event loop
    // open (the gateway is gone and `ended` never settles), and an unreferenced one let Node exit
    // 0 in the middle of an interrupted run, before it could report the interruption.
    if (!this.exits.has(life) && ms > 0 && !this.signal?.aborted) {
      await Promise.race([this.ended.get(life), sleep(ms, undefined, { signal: this.signal }).catch(() => {})]);
    }
    return this.exits.has(life);
  }

  private async probeOne(s: Scenario): Promise<Watched> {
    await this.ready();
    const life = this.life;
    const run = await this.session.probe(s, this.signal);
    const endedAt = performance.now();
    // A gateway that just died must be heard of before this worker sends the next scenario to its
    // empty port (that scenario would be blamed too, and its run would mean nothing).
    if (suspicious(run.outcomes)) await this.died(life, EXIT_GRACE_MS);
    return { run, life, endedAt };
  }

  /**
   * One scenario with nothing else in flight, judged for a crash on its own: its run carries the
   * crash when the gateway died of it (and the gateway has been restarted by the time this settles).
   */
  async alone(s: Scenario, opts: { readonly alwaysWait?: boolean } = {}): Promise<ProbeRun> {
    const w = await this.probeOne(s);
    const died = await this.died(w.life, opts.alwaysWait || suspicious(w.run.outcomes) ? EXIT_GRACE_MS : 0);
    await this.ready();
    return died ? { ...w.run, crash: crashOf(this.exits.get(w.life)!.exit) } : w.run;
  }

  /**
   * The suite's scenarios, `concurrency` in flight at once, in order; each crash of the gateway
   * is then put on the scenario to blame (its run carries the crash).
   */
  /** `spacingMs`: how far apart the first wave starts (FIRST_WAVE_SPACING_MS times the gateways probed at once: they share one event loop). */
  async probeAll(scenarios: readonly Scenario[], concurrency: number, spacingMs: number, onProbed?: (run: ProbeRun) => void): Promise<ProbeRun[]> {
    // Those expected to crash it go first, alone: a crash with the suite in flight would take the
    // others' answers down with it, and re-running them cannot replay a fault whose state moved on
    // (a pool member that comes back after a while).
    const runs = new Array<ProbeRun | undefined>(scenarios.length);
    for (const [i, s] of scenarios.entries()) {
      if (!this.likely(s)) continue;
      runs[i] = await this.alone(s, { alwaysWait: true });
      onProbed?.(runs[i]!);
    }
    const rest = scenarios.map((s, i) => ({ s, i })).filter(({ i }) => runs[i] === undefined);
    const together = await this.probeTogether(rest.map(({ s }) => s), concurrency, spacingMs, onProbed);
    rest.forEach(({ i }, k) => (runs[i] = together[k]));
    return runs as ProbeRun[];
  }

  private async probeTogether(scenarios: readonly Scenario[], concurrency: number, spacingMs: number, onProbed?: (run: ProbeRun) => void): Promise<ProbeRun[]> {
    if (scenarios.length === 0) return [];
    const watched = await mapLimit(
      scenarios,
      concurrency,
      async (s, i) => {
        // The first wave is let in one at a time (FIRST_WAVE_SPACING_MS says why).
        if (i < concurrency && i > 0 && spacingMs > 0) await sleep(i * spacingMs, undefined, { signal: this.signal });
        const w = await this.probeOne(s);
        onProbed?.(w.run);
        return w;
      },
      this.signal,
    );
    // The last scenarios' crash is heard of a moment after their answers.
    const now = performance.now();
    if (watched.some((w) => w.life === this.life && now - w.endedAt < EXIT_GRACE_MS && suspicious(w.run.outcomes))) await this.died(this.life, EXIT_GRACE_MS);
    await this.ready();
    const runs = watched.map((w) => w.run);
    for (const [life, { exit, at }] of [...this.exits].filter(([l]) => l < this.life)) {
      const ofLife = watched.map((w, i) => ({ w, i })).filter(({ w }) => w.life === life);
      // In flight as it died, or ended just before it was heard of.
      let suspects = ofLife.filter(({ w }) => w.endedAt >= at - EXIT_GRACE_MS);
      // Nothing then: the last scenario it served is the likeliest.
      if (suspects.length === 0) suspects = ofLife.sort((a, b) => b.w.endedAt - a.w.endedAt).slice(0, 1);
      if (suspects.length === 1) {
        const i = suspects[0]!.i;
        runs[i] = { ...runs[i]!, crash: crashOf(exit) };
        continue;
      }
      // Several: one at a time on the restarted gateway (those expected to crash it first) until
      // one kills it; what it died with saw a dying gateway, so the rest run again, together.
      const order = [...suspects.filter(({ w }) => this.likely(w.run.scenario)), ...suspects.filter(({ w }) => !this.likely(w.run.scenario))];
      let tried = 0;
      let found = false;
      while (tried < order.length && !found) {
        const { i, w } = order[tried++]!;
        runs[i] = await this.alone(w.run.scenario, { alwaysWait: true });
        found = runs[i]!.crash !== undefined;
      }
      if (found) {
        const rest = order.slice(tried);
        const again = await this.probeTogether(rest.map(({ w }) => w.run.scenario), concurrency, 0);
        rest.forEach(({ i }, k) => (runs[i] = again[k]!));
        continue;
      }
      // None killed it alone: each keeps what it saw as the gateway died, and the company it was in.
      for (const { w, i } of suspects) runs[i] = { ...w.run, crash: crashOf(exit, suspects.filter((x) => x.i !== i).map((x) => x.w.run.scenario.id)) };
    }
    return runs;
  }
}
