/**
 * The supervisor of a process-layer fault: runs the backend child (child-program.ts) on one
 * port, answers its per-request questions with behavior.ts's decisions, does the signals
 * (SIGSTOP/SIGCONT for a freeze; the child SIGKILLs itself for a kill, so the bytes before the
 * kill are exactly the ones it wrote), and starts a new child after one exits, on the same port
 * so the gateway's upstream address stays valid. Everything it starts dies with close() or,
 * synchronously, with abandon(); the child also exits when its IPC channel to us closes, so
 * even a supervisor killed with SIGKILL leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StartError } from '../errors.js';
import type { ProcessFaultDef } from '../faults/fault.js';
import { bodyBytes, decide, processParams, restartDelayMs, type Action } from './behavior.js';
import { CHILD_SOURCE } from './child-program.js';

export interface SupervisorOptions {
  readonly fault: ProcessFaultDef;
  /** Overrides of the fault's parameters (a scenario's `params:`). */
  readonly params?: Readonly<Record<string, string | number>>;
  readonly host?: string;
  /** 0 (default): a free port, chosen by the first child and kept by every later one. */
  readonly port?: number;
  /** Put on each child's command line, so it can be found with `pgrep -f` (e.g. the run's directory). */
  readonly tag?: string;
  /** How long the first child may take to listen. Default 10,000 ms. */
  readonly startTimeoutMs?: number;
  /**
   * Standby children started with the first one, before start resolves: one per restart the
   * scenario will cause (restartsWithin). Starting a process blocks this process's event loop
   * until the child has exec'd (tens to hundreds of ms on a loaded machine), which, during a run,
   * would delay every other scenario's fault timing; so restarts use these, and a child is
   * started at restart time only when they are used up. Default 1.
   */
  readonly standbys?: number;
}

/** How one child ended. */
export interface ChildExit {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** ms after the supervisor started. */
  readonly atMs: number;
}

export interface StartedSupervisor extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly params: Readonly<Record<string, number>>;
  /** The child running now, if any (none between an exit and its restart). */
  readonly pid: number | undefined;
  /** Every child started, in order (a standby is started ahead of each restart). */
  readonly pids: readonly number[];
  readonly exits: readonly ChildExit[];
  /** Requests the children have reported, over every child. */
  readonly requests: number;
  /** Resolves once a child listens (at once when one does); with `exceptPid`, a child other than that one (a restart). */
  listening(timeoutMs?: number, exceptPid?: number): Promise<void>;
  close(): Promise<void>;
  /** This process is exiting and cannot wait: SIGKILL every child now, synchronously. */
  abandon(): void;
}

/** A child's restart that cannot bind its port is tried again this often, this many times (the port is briefly someone else's). */
const REBIND_MS = 50;
const REBIND_TRIES = 40;
/** Standbys one supervisor starts up front at most (each is a node process of about 40 MB). */
const MAX_STANDBYS = 16;
/** A child that does not exit this long after SIGKILL is reported, not waited on for ever. */
const EXIT_WAIT_MS = 3000;

type ChildMessage = { t: 'req'; id: number; url: string } | { t: 'closed' } | { t: 'ready' } | { t: 'listening'; port: number } | { t: 'listen-error'; code: string; message: string };

export async function startSupervisor(opts: SupervisorOptions): Promise<StartedSupervisor> {
  const host = opts.host ?? '127.0.0.1';
  const def = opts.fault;
  const params = processParams(def, opts.params);
  const started = performance.now();
  let port = opts.port ?? 0;
  /** The child that listens (or is about to); requests come only from it. */
  let active: ChildProcess | undefined;
  /** The next children, started and waiting to be told to listen, in order. */
  const standbys: ChildProcess[] = [];
  const alive = new Set<ChildProcess>();
  /** Standby children that can take a message (their listener is attached). */
  const ready = new WeakSet<ChildProcess>();
  /** Promoted before it was ready: told to listen once it says it is. */
  let listenWhenReady: ChildProcess | undefined;
  let childListening = false;
  let ofChild = 0;
  let requests = 0;
  let closed = false;
  let rebinds = 0;
  /** When the supervisor last told a child to kill itself: a crash's gap runs from then, not from when the exit was reaped. */
  let killedAt: number | undefined;
  let stderr = '';
  const pids: number[] = [];
  const exits: ChildExit[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let onListening: Array<() => void> = [];
  let firstFailure: ((err: Error) => void) | undefined;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const signal = (c: ChildProcess, sig: NodeJS.Signals) => {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
    try {
      // Its own process group: a grandchild, if a future child ever had one, goes too.
      process.kill(-c.pid, sig);
    } catch {
      try {
        c.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  const send = (c: ChildProcess, msg: object) => {
    if (c.connected) c.send(msg, () => {});
  };

  const spawnChild = (asStandby: boolean): ChildProcess | undefined => {
    if (closed) return undefined;
    const argv = ['-e', CHILD_SOURCE, JSON.stringify({ host, port, bodyBytes: bodyBytes(params), standby: asStandby }), ...(opts.tag ? [opts.tag] : [])];
    const c = spawn(process.execPath, argv, { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    alive.add(c);
    if (c.pid !== undefined) pids.push(c.pid);
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    c.on('error', (err) => firstFailure?.(err));
    c.on('message', (m: ChildMessage) => onMessage(c, m));
    c.once('exit', (code, sig) => {
      alive.delete(c);
      if (c.pid !== undefined) exits.push({ pid: c.pid, code, signal: sig, atMs: Math.round(performance.now() - started) });
      const at = standbys.indexOf(c);
      if (at !== -1) standbys.splice(at, 1);
      if (c !== active) return;
      active = undefined;
      childListening = false;
      if (closed) return;
      // A restart that found its port taken tries again soon; any other exit waits the fault's gap.
      const since = killedAt === undefined ? 0 : performance.now() - killedAt;
      killedAt = undefined;
      later(rebinds > 0 ? REBIND_MS : Math.max(0, restartDelayMs(def.process, params) - since), promote);
    });
    return c;
  };

  /** The standby (or, if it died, a fresh child) becomes the one that listens. */
  const promote = () => {
    if (closed) return;
    ofChild = 0;
    // Past the standbys started up front (more restarts than the scenario was expected to cause), one is started now.
    const next = standbys.shift() ?? spawnChild(true);
    if (!next) return;
    active = next;
    if (ready.has(next)) send(next, { t: 'listen', port });
    else listenWhenReady = next;
  };

  const onMessage = (c: ChildProcess, m: ChildMessage) => {
    if (m.t === 'ready') {
      ready.add(c);
      if (c === listenWhenReady) {
        listenWhenReady = undefined;
        send(c, { t: 'listen', port });
      }
      return;
    }
    if (m.t === 'listening') {
      if (c !== active) return;
      port = m.port;
      childListening = true;
      rebinds = 0;
      const waiting = onListening;
      onListening = [];
      for (const fn of waiting) fn();
      return;
    }
    if (m.t === 'listen-error') {
      if (port !== 0 && m.code === 'EADDRINUSE' && rebinds < REBIND_TRIES && exits.length > 0) rebinds++;
      else firstFailure?.(new Error(`${m.code}: ${m.message}`));
      return;
    }
    if (c !== active) return;
    if (m.t === 'closed') {
      childListening = false;
      return;
    }
    requests++;
    ofChild++;
    const action = decide(def.process, params, { n: requests, ofChild });
    if (action.kind === 'freeze') {
      signal(c, 'SIGSTOP');
      later(action.ms, () => {
        signal(c, 'SIGCONT');
        send(c, { t: 'go', id: m.id, action: { kind: 'respond', delayMs: 0, drain: false } });
      });
      return;
    }
    if (action.kind === 'kill') {
      childListening = false;
      killedAt = performance.now();
    }
    send(c, { t: 'go', id: m.id, action });
  };

  const stopAll = async (): Promise<void> => {
    closed = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    await Promise.all(
      [...alive].map(
        (c) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, EXIT_WAIT_MS);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            signal(c, 'SIGKILL');
          }),
      ),
    );
  };

  const listening = (timeoutMs = 10_000, exceptPid?: number) =>
    childListening && (exceptPid === undefined || active?.pid !== exceptPid)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no child listened within ${timeoutMs} ms`)), timeoutMs);
          onListening.push(() => {
            clearTimeout(t);
            resolve();
          });
        });

  try {
    await new Promise<void>((resolve, reject) => {
      firstFailure = reject;
      active = spawnChild(false);
      listening(opts.startTimeoutMs ?? 10_000).then(resolve, reject);
    });
  } catch (err) {
    await stopAll();
    throw new StartError(
      'BG_BACKEND_START',
      `the backend process of fault ${def.id} did not start listening on ${host}:${port || '(a free port)'}: ${(err as Error).message}.` +
        (stderr.trim() ? ` Its stderr: ${stderr.trim().slice(-800)}` : ' A port in use or a machine out of processes is the usual cause.'),
    );
  }
  firstFailure = undefined;
  // The standbys, started now and ready to be told to listen, so that no restart during the run starts a process.
  try {
    const want = Math.max(0, Math.min(opts.standbys ?? 1, MAX_STANDBYS));
    const readyAll = Array.from({ length: want }, () => {
      const c = spawnChild(true);
      if (c) standbys.push(c);
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`a standby child was not ready within ${opts.startTimeoutMs ?? 10_000} ms`)), opts.startTimeoutMs ?? 10_000);
        c?.on('message', (m: ChildMessage) => {
          if (m.t === 'ready') {
            clearTimeout(t);
            resolve();
          }
        });
        c?.once('exit', () => {
          clearTimeout(t);
          reject(new Error('a standby child exited before it was ready'));
        });
      });
    });
    await Promise.all(readyAll);
  } catch (err) {
    await stopAll();
    throw new StartError('BG_BACKEND_START', `the backend process of fault ${def.id} could not start its standby processes: ${(err as Error).message}.${stderr.trim() ? ` Its stderr: ${stderr.trim().slice(-800)}` : ''}`);
  }

  const close = () => stopAll();
  return {
    host,
    port,
    params,
    get pid() {
      return active?.pid;
    },
    pids,
    exits,
    get requests() {
      return requests;
    },
    listening,
    close,
    [Symbol.asyncDispose]: close,
    abandon() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of alive) signal(c, 'SIGKILL');
    },
  };
}
