/**
 * The process runtime: the gateway's own binary from PATH, in the foreground,
 * in its own process group so that stopping it also stops its workers. It
 * touches nothing outside its prefix.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { StartError } from '../errors.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import { OUTPUT_LOG, readVersion, removePrefix, runningGateway, writeConfig } from './files.js';
import type { Availability, GatewayExit, Runtime, RunningGateway, StartInput } from './runtime.js';
import { groupListensOn, listenerOf } from './port-owner.js';
import { waitReady } from './wait.js';

/** Debian puts nginx and haproxy in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export async function findBinary(name: string): Promise<string | undefined> {
  // An absolute path (a Node proxy runs process.execPath) is taken as it is.
  if (isAbsolute(name)) return access(name, constants.X_OK).then(() => name, () => undefined);
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function run(bin: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 10_000, env: env ? { ...process.env, ...env } : undefined }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Like run, with stdout apart from stderr (a log dump's stdout is the log). */
function runSplit(bin: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 10_000, maxBuffer: 256 * 1024 * 1024, env: env ? { ...process.env, ...env } : undefined }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err ? err.message : '') });
    });
  });
}

export const processRuntime: Runtime = {
  kind: 'process',

  async available(adapter: GatewayAdapter): Promise<Availability> {
    const bin = await findBinary(adapter.binary);
    if (!bin) return { ok: false, why: `${adapter.binary} is not on PATH. Install it (${adapter.installHint}) or use --runtime container.` };
    const missing = adapter.requires?.();
    if (missing) return { ok: false, why: missing };
    return { ok: true, version: await readVersion(adapter, async (args) => (await run(bin, args)).out) };
  },

  async start(input: StartInput): Promise<RunningGateway> {
    const { adapter, prefix } = input;
    const bin = await findBinary(adapter.binary);
    if (!bin) {
      await removePrefix(prefix);
      throw new StartError('BG_GATEWAY_MISSING', `${adapter.binary} is not on PATH. Install it (${adapter.installHint}) or run with --runtime container.`);
    }
    const dumpBin = adapter.logDump ? await findBinary(adapter.logDump.binary) : undefined;
    if (adapter.logDump && !dumpBin) {
      await removePrefix(prefix);
      throw new StartError('BG_GATEWAY_MISSING', `${adapter.logDump.binary} (which reads ${adapter.id}'s log) is not on PATH. Install it (${adapter.installHint}) or run with --runtime container.`);
    }
    const missing = adapter.requires?.();
    if (missing) {
      await removePrefix(prefix);
      throw new StartError('BG_GATEWAY_MISSING', missing);
    }
    const version = await readVersion(adapter, async (args) => (await run(bin, args)).out);
    const configPath = await writeConfig(prefix, input.config);
    const env = adapter.env?.(prefix);
    const test = await run(bin, adapter.testArgs(prefix, configPath), env);
    if (test.code !== 0) {
      await removePrefix(prefix);
      throw new StartError('BG_GATEWAY_CONFIG', `${adapter.id} rejected its configuration (${adapter.binary} ${adapter.testArgs(prefix, configPath).join(' ')}):\n${test.out.trim()}`);
    }
    let output = '';
    // stdout and stderr go straight to a file under the prefix, so nothing is lost or
    // reordered on the way; the log tail reads it back.
    const outFd = openSync(join(prefix, OUTPUT_LOG), 'a');
    let child: ChildProcess;
    try {
      child = spawn(bin, adapter.args(prefix, configPath, { listen: input.listen }), { detached: true, stdio: ['ignore', outFd, outFd], env: env ? { ...process.env, ...env } : undefined });
    } finally {
      closeSync(outFd);
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let dead = false;
    child.once('exit', () => (dead = true));
    child.on('error', (err) => {
      dead = true;
      output += `${err.message}\n`;
    });

    let closed = false;
    const { gateway, logTail, stop } = runningGateway(input, 'process', version, bin, () => output, async () => {
      closed = true;
      if (!dead && child.pid !== undefined) {
        signalGroup(child.pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      // Workers share the group; make sure none outlives the master, even a master that died first (a crash).
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      await removePrefix(prefix);
    }, () => {
      closed = true;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    }, dumpBin ? (argv) => runSplit(dumpBin, argv.slice(1), env) : undefined);
    const ready = await waitReady(input.listen.host, input.listen.port, input.readyPath, input.startTimeoutMs ?? 10_000, () => dead || closed);
    if (!ready) {
      const why = dead ? 'exited during startup' : `did not answer on ${input.listen.host}:${input.listen.port} within ${input.startTimeoutMs ?? 10_000} ms`;
      const logs = await logTail();
      await stop();
      throw new StartError('BG_GATEWAY_START', `${adapter.id} ${why}. Its log tail is below; a port in use or a config error is the usual cause.`, { logTail: logs });
    }
    // Something answered; make sure it is this gateway. Another process that took the port before
    // the gateway bound it would answer for it while the gateway fails (nginx retries its bind for
    // 2.5 s before it gives up).
    if (child.pid !== undefined && (await groupListensOn(child.pid, input.listen.port)) === false) {
      const holder = await listenerOf(input.listen.port);
      const logs = await logTail();
      await stop();
      throw new StartError('BG_ADDRESS_IN_USE', `${adapter.id} could not have ${input.listen.host}:${input.listen.port}: another process${holder ? `, ${holder},` : ''} took the port before the gateway bound it. Run again; if it recurs, something on this machine keeps taking ports outside the ephemeral range.`, { logTail: logs });
    }
    // An exit nobody asked for is a crash: its log tail is read now, while the prefix is still there.
    const crashed = exited.then(async ({ code, signal }): Promise<GatewayExit> => {
      if (closed) return new Promise<never>(() => {});
      return { code, signal, lastLogLines: (await logTail(CRASH_TAIL_LINES)).split('\n') };
    });
    return { ...gateway, exited: crashed, pid: child.pid };
  },
};

/** Enough for HAProxy's FATAL line and its call trace, or nginx's last alerts. */
export const CRASH_TAIL_LINES = 20;

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

export default processRuntime;
