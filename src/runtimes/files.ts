/** The run's prefix directory: created with the config in it, removed on close. */
import { rmSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GatewayAdapter, RenderedConfig } from '../gateways/gateway.js';
import type { RunningGateway, StartInput } from './runtime.js';

/** The gateway's stdout and stderr, kept by both runtimes, relative to the prefix. */
export const OUTPUT_LOG = 'logs/output.log';

export async function makePrefix(gateway: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `badgateway-${gateway}-`));
  // Gateway workers may drop privileges (nginx runs them as nobody when started by root).
  await chmod(dir, 0o755);
  for (const sub of ['logs', 'tmp']) {
    await mkdir(join(dir, sub), { recursive: true });
    await chmod(join(dir, sub), 0o777);
  }
  return dir;
}

export async function writeConfig(prefix: string, config: RenderedConfig): Promise<string> {
  for (const [rel, text] of Object.entries(config.files)) {
    const file = join(prefix, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return join(prefix, config.main);
}

export async function readLogFiles(prefix: string, files: readonly string[]): Promise<string> {
  const parts = await Promise.all(files.map((f) => readFile(join(prefix, f), 'utf8').catch(() => '')));
  return parts.join('');
}

export async function removePrefix(prefix: string): Promise<void> {
  await rm(prefix, { recursive: true, force: true });
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** A RunningGateway but for how it learns of an exit, which each runtime adds. */
export type StartedFiles = Omit<RunningGateway, 'exited' | 'pid'>;

/**
 * The RunningGateway both runtimes return. `stop` runs at most once: on close(),
 * on dispose, or when the run's signal aborts.
 */
export function runningGateway(
  input: StartInput,
  runtime: string,
  version: string | undefined,
  source: string,
  output: () => string,
  stop: () => Promise<void>,
  /** Kill the gateway synchronously (the prefix is removed after it). */
  kill: () => void,
  /** Runs a command where the gateway runs (see logDumper). */
  exec?: Exec,
): { gateway: StartedFiles; logTail: (lines?: number) => Promise<string>; stop: () => Promise<void> } {
  let stopping: Promise<void> | undefined;
  const onAbort = () => void once();
  let stopped = false;
  const once = () => {
    input.signal?.removeEventListener('abort', onAbort);
    return (stopping ??= stop().then(() => void (stopped = true)));
  };
  input.signal?.addEventListener('abort', onAbort, { once: true });
  if (input.signal?.aborted) onAbort();
  const { adapter, prefix } = input;
  // The gateway's own output (logs/output.log) is part of the tail even when its adapter does not parse it.
  const tailFiles = [...new Set([...adapter.logFiles, OUTPUT_LOG])];
  const logTail = async (lines = 30) => tail(`${await readLogFiles(prefix, tailFiles)}${output()}`, lines);
  const gateway: StartedFiles = {
    adapter,
    runtime,
    version,
    source,
    host: input.listen.host,
    port: input.listen.port,
    prefix,
    readLogs: async () => {
      if (exec && !stopped) await dumpLog(adapter, prefix, exec);
      return readLogFiles(prefix, adapter.logFiles);
    },
    logTail,
    close: once,
    [Symbol.asyncDispose]: once,
    abandon() {
      if (stopped) return;
      try {
        kill();
      } finally {
        rmSync(prefix, { recursive: true, force: true });
      }
    },
  };
  return { gateway, logTail, stop: once };
}

/**
 * A gateway's version: `versionArgs`' output, then `buildInfoArgs`' when the adapter has them,
 * read by `parseVersion`. `exec` runs the binary with arguments and gives its output ('' on failure).
 */
export async function readVersion(adapter: GatewayAdapter, exec: (args: readonly string[]) => Promise<string>): Promise<string | undefined> {
  const out = await exec(adapter.versionArgs);
  const build = adapter.buildInfoArgs ? await exec(adapter.buildInfoArgs) : '';
  return adapter.parseVersion(build ? `${out}\n${build}` : out);
}

/** Runs a command (binary and arguments) where the gateway runs: on the host, or in its container. */
export type Exec = (argv: readonly string[]) => Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }>;

/**
 * For an adapter with a `logDump` (its log lives in memory): waits for the gateway to finish
 * writing the last requests' records, runs the dump, and writes what it printed to its file.
 * A failed dump leaves its error in the gateway's output log (part of every log tail) instead of
 * failing the run: the requests were made; only their log lines are missing.
 */
export async function dumpLog(adapter: GatewayAdapter, prefix: string, exec: Exec): Promise<void> {
  const d = adapter.logDump;
  if (!d) return;
  await new Promise((resolve) => setTimeout(resolve, d.settleMs));
  const r = await exec([d.binary, ...d.args(prefix)]);
  try {
    await writeFile(join(prefix, d.file), r.stdout);
    if (r.code !== 0) await appendFile(join(prefix, OUTPUT_LOG), `badgateway: ${d.binary} exited with ${r.code}: ${r.stderr.trim()}\n`);
  } catch {
    /* the prefix is gone: the gateway is stopping */
  }
}
