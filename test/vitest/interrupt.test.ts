/**
 * A vitest run that uses useGateway and is stopped mid-test leaves nothing behind. nginx runs in
 * its own process group (the process runtime), so a worker that simply died would leave it
 * running: the helper's signal and disconnect handlers are what stop it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { waitForOutput } from '../helpers/cli.js';
import { leftIn, processesNaming } from '../helpers/interrupt.js';
import { tryConnect } from '../helpers/raw-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const CONFIG = join(ROOT, 'test/vitest/fixtures/vitest.config.ts');

/** What is left in the private TMPDIR, without the runner's own temp dir (vitest names it with a nanoid and leaves it when interrupted). */
async function ours(tmp: string): Promise<string[]> {
  return (await leftIn(tmp)).filter((f) => !/^[A-Za-z0-9_-]{21}$/.test(f));
}

async function interrupt(how: 'ctrl-c' | 'sigterm-to-runner'): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), `badgateway-test-vitest-${how}-`));
  // Its own process group, as a terminal gives a command: Ctrl-C signals the whole group.
  const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG, 'hold'], { cwd: ROOT, detached: true, env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  try {
    await waitForOutput(() => out, /GATEWAY http:\/\/127\.0\.0\.1:\d+/, 60_000);
    const port = Number(/GATEWAY http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
    expect(processesNaming(tmp)).toMatch(/nginx: master process/);
    if (how === 'ctrl-c') process.kill(-child.pid!, 'SIGINT');
    else child.kill('SIGTERM'); // the runner alone: vitest exits without stopping its workers
    await exited;
    // The worker may outlive the runner by the time it takes to stop nginx (up to 3 s before SIGKILL).
    const deadline = Date.now() + 15_000;
    while ((processesNaming(tmp) !== '' || (await ours(tmp)).length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(processesNaming(tmp)).toBe('');
    expect(await ours(tmp)).toEqual([]);
    expect(await tryConnect(port, 2000)).toBe('ECONNREFUSED');
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await rm(tmp, { recursive: true, force: true });
  }
}

it('Ctrl-C (SIGINT to the process group) stops the gateway useGateway started', () => interrupt('ctrl-c'), 90_000);

it('SIGTERM to the vitest runner alone stops it too (the worker sees its IPC channel close)', () => interrupt('sigterm-to-runner'), 90_000);

