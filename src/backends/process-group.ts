/**
 * A server started in a process group of its own, so that stopping it stops its workers too:
 * gunicorn's arbiter and php-fpm's master fork workers that would otherwise outlive them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { StartError } from '../errors.js';

export interface Group {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  isDead(): boolean;
  /** TERM (or the signal given) to the group, KILL after `graceMs`, then KILL again for any worker left. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** SIGKILL to the group, synchronously. */
  kill(): void;
}

export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

export function startGroup(bin: string, args: readonly string[], opts: { readonly cwd: string; readonly outFile: string }): Group {
  const fd = openSync(opts.outFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let dead = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      dead = true;
      resolve();
    });
    child.once('error', () => {
      dead = true;
      resolve();
    });
  });
  const pid = child.pid;
  return {
    child,
    exited,
    isDead: () => dead,
    async stop(signal = 'SIGTERM', graceMs = 3000) {
      if (pid === undefined) return;
      if (!dead) {
        signalGroup(pid, signal);
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Workers share the group: none outlives the master.
      signalGroup(pid, 'SIGKILL');
    },
    kill() {
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    },
  };
}

/** Polls `ready` every 50 ms until it holds, the process dies, or `timeoutMs` passes. */
export async function waitFor(ready: () => Promise<boolean>, dead: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (dead()) return false;
    if (await ready()) return true;
    await sleep(50);
  }
  return false;
}

/** A started server and the directory it owns: both gone on close, and synchronously on abandon. */
export interface Owned {
  close(): Promise<void>;
  abandon(): void;
}

export function owned(group: Group, dir: string): Owned {
  return {
    async close() {
      await group.stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    abandon() {
      group.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A server that did not become ready: stopped and removed, then a StartError with its command and the tail of its log. */
export async function failedStart(name: string, command: string, group: Group, log: () => Promise<string>, it: Owned, timeoutMs: number): Promise<never> {
  const tail = (await log()).trim().split('\n').slice(-20).join('\n');
  const dead = group.isDead();
  await it.close();
  throw new StartError('BG_BACKEND_START', `${name} ${dead ? 'exited during startup' : `was not ready within ${timeoutMs} ms`} (${command}). Its log:\n${tail}`);
}
