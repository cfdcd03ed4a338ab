/**
 * Interrupting `badgateway run` mid-run, and what must be left afterwards:
 * nothing. Shared by the suites of every gateway and runtime.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { RUN_LABEL } from '../../src/runtimes/container.js';
import { startCli, waitForOutput } from './cli.js';
import { containersLabelled } from './docker.js';

/** Command lines of the processes that name `dir` (a gateway started under a prefix in it); empty when none. */
export function processesNaming(dir: string): string {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' });
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

/**
 * A private TMPDIR for each test of the calling file: every prefix, run directory and socket file a
 * run makes lands there, so the test can count what is left and which processes name it. `dir` is
 * the current test's, `outer` the TMPDIR it stands in for (for files the count must not see).
 */
export function usePrivateTmpdir(prefix: string): { readonly dir: string; readonly outer: string } {
  let dir = '';
  let outer = '';
  let saved: string | undefined;
  beforeEach(async () => {
    saved = process.env.TMPDIR;
    outer = tmpdir();
    dir = await mkdtemp(join(outer, prefix));
    process.env.TMPDIR = dir;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get outer() {
      return outer;
    },
  };
}

/** What is left in a private TMPDIR, without testcontainers' per-user lock file (shared by every session, reused). */
export async function leftIn(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((f) => !/^testcontainers-node-\d+\.lock$/.test(f));
}

export interface InterruptCase {
  readonly gateway: string;
  readonly runtime: 'process' | 'container';
  readonly signal: NodeJS.Signals;
  readonly image?: string;
}

/**
 * Runs a few scenarios (one holds the run for a second), sends the signal once the
 * gateway has answered one, and checks: exit 130 with the interruption said, no file
 * in the run's private TMPDIR, no process naming it, and no container of this run.
 */
export async function interruptMidRun(c: InterruptCase): Promise<void> {
  // A private TMPDIR: every prefix, run dir and socket file the CLI makes lands here.
  const tmp = await mkdtemp(join(tmpdir(), `badgateway-test-${c.gateway}-${c.runtime}-`));
  try {
    const args = ['run', '--gateway', c.gateway, '--runtime', c.runtime, ...(c.image ? ['--image', c.image] : []), '--only', 'never-respond', '--only', 'slow-*', '--only', 'healthy*'];
    const cli = startCli(args, { TMPDIR: tmp });
    await waitForOutput(cli.output, new RegExp(`${c.gateway} \\d+\\.\\d+\\.\\d+(\\+go[\\d.]+)? \\(${c.runtime}\\): \\d+ scenarios`), 30_000);
    // healthy is done within milliseconds; never-respond holds the run for a second more.
    await waitForOutput(cli.output, new RegExp(`· ${c.gateway} healthy `), 10_000);
    cli.child.kill(c.signal);
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/run interrupted; everything it started was stopped/);
    expect(await leftIn(tmp)).toEqual([]);
    expect(processesNaming(tmp)).toBe('');
    // Only this run's containers: other runs on the machine may have their own.
    if (c.runtime === 'container') expect(containersLabelled(`${RUN_LABEL}=${cli.child.pid}`)).toEqual([]);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
