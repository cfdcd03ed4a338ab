/**
 * Where an external gateway's log comes from: a file the run tails from where it was when the
 * run began (`--gateway-log`), or a command whose output is the log (`--gateway-log-cmd`, e.g.
 * `kubectl logs -f ...`), killed when the run ends. And, for `judge`, log files read whole after
 * the fact (plain or gzipped, or every file of a folder: ALB writes one .gz per 5 minutes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { InputError, StartError } from '../errors.js';

export interface GatewayLog {
  /** What the report says the log came from. */
  readonly source: string;
  /** Everything logged since the run began. */
  read(): Promise<string>;
  close(): Promise<void>;
  /** Synchronous, for an exit handler: kill the log command at once. */
  abandon(): void;
}

/**
 * Most log bytes kept of a command's output or read of a file's growth: a run's lines fit many
 * times over. What goes past it is the oldest: `kubectl logs -f` starts with history, and the
 * run's own lines come last.
 */
export const MAX_LOG_BYTES = 64 * 1024 * 1024;
/** A log command that fails at once (not found, no cluster access) fails the run before any probe. */
const CMD_SETTLE_MS = 300;

function unreadable(flag: string, file: string, err: NodeJS.ErrnoException): InputError {
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' || err.code === 'EPERM' ? 'this user may not read it' : err.code === 'EISDIR' ? 'that is a folder' : err.message;
  return new InputError('BG_FILE_UNREADABLE', `${flag} ${file}: ${why}. Give the file the gateway writes its error log to (nginx: error_log), readable by this user.`);
}

/** A file the gateway appends to: read from the size it had when the run began (from 0 again if it was rotated or truncated since). */
export async function tailFile(file: string): Promise<GatewayLog> {
  let start: number;
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
    start = st.size;
  } catch (err) {
    throw unreadable('--gateway-log', file, err as NodeJS.ErrnoException);
  }
  return {
    source: file,
    async read() {
      const fh = await open(file, 'r');
      try {
        const size = (await fh.stat()).size;
        const from = Math.max(size < start ? 0 : start, size - MAX_LOG_BYTES);
        const buf = Buffer.alloc(size - from);
        await fh.read(buf, 0, buf.length, from);
        return buf.toString('latin1');
      } finally {
        await fh.close();
      }
    },
    close: async () => {},
    abandon: () => {},
  };
}

/** A command whose stdout and stderr are the log, in a process group of its own so closing ends all it started. */
export async function logCommand(cmd: string): Promise<GatewayLog> {
  const child: ChildProcess = spawn('/bin/sh', ['-c', cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let bytes = 0;
  const keep = (b: Buffer) => {
    const piece = b.length > MAX_LOG_BYTES ? b.subarray(b.length - MAX_LOG_BYTES) : b;
    chunks.push(piece);
    bytes += piece.length;
    while (bytes > MAX_LOG_BYTES) bytes -= chunks.shift()!.length;
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<void>((resolve) => child.once('close', (code, signal) => ((exit = { code, signal }), resolve())));
  child.once('error', () => {});
  await Promise.race([exited, sleep(CMD_SETTLE_MS)]);
  if (exit && exit.code !== 0) {
    const out = Buffer.concat(chunks).toString('utf8').trim().split('\n').slice(-5).join('\n');
    throw new StartError('BG_GATEWAY_LOG', `--gateway-log-cmd "${cmd}" exited with ${exit.code ?? exit.signal} at once${out ? `:\n${out}` : ' and printed nothing'}\nGive a command that keeps printing the gateway's log (e.g. tail -F FILE, kubectl logs -f deploy/NAME).`);
  }
  const kill = (sig: NodeJS.Signals) => {
    if (exit || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  return {
    source: `the output of: ${cmd}`,
    read: async () => Buffer.concat(chunks).toString('latin1'),
    async close() {
      kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(2000).then(() => false)]))) {
        kill('SIGKILL');
        await exited;
      }
    },
    abandon: () => kill('SIGKILL'),
  };
}

/** Log files read whole, for `judge`: plain or gzipped (by their magic bytes), a folder's files in name order. */
export async function readLogFiles(paths: readonly string[]): Promise<string> {
  const texts: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      throw unreadable('--gateway-log', p, err as NodeJS.ErrnoException);
    }
    const files = st.isDirectory() ? (await readdir(p, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name)).sort() : [p];
    for (const f of files) {
      let buf: Buffer;
      try {
        buf = await readFile(f);
      } catch (err) {
        throw unreadable('--gateway-log', f, err as NodeJS.ErrnoException);
      }
      if (buf[0] === 0x1f && buf[1] === 0x8b) {
        try {
          buf = gunzipSync(buf);
        } catch (err) {
          throw new InputError('BG_FILE_UNREADABLE', `--gateway-log ${f}: looks gzipped but does not decompress (${(err as Error).message}). Give the log file as the gateway (or S3) wrote it.`);
        }
      }
      const text = buf.toString('latin1');
      texts.push(text.endsWith('\n') ? text : `${text}\n`);
    }
  }
  return texts.join('');
}
