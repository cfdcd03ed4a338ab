/**
 * php-fpm as a backend: our own master (`php-fpm8.2 -y <conf> -p <dir> -F`, never the system
 * service) with one static pool whose settings make the situation: `pm.max_children`,
 * `request_terminate_timeout`, `listen.backlog`, and a slow script. Pid, socket, error log and
 * script all live in the backend's directory.
 */
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../upstream/listen.js';
import { BACKEND_BINARIES, type PhpFpmSpec, type RunningBackend } from './backend.js';
import { failedStart, owned, startGroup, waitFor } from './process-group.js';

const LOG = 'php-fpm.log';
const OUT = 'output.log';
export const SCRIPT = 'www/slow.php';

/** The pool's config for a spec; `listen` is the socket path or host:port. */
export function phpFpmConfig(dir: string, spec: PhpFpmSpec, listen: string, asRoot: boolean): string {
  const lines = [
    '[global]',
    `pid = ${join(dir, 'php-fpm.pid')}`,
    `error_log = ${join(dir, LOG)}`,
    'daemonize = no',
    'log_level = notice',
    '',
    '[bg]',
    `listen = ${listen}`,
    // A gateway in a container (another uid) connects through the run directory's mount.
    'listen.mode = 0666',
    `listen.backlog = ${spec.backlog}`,
    'pm = static',
    `pm.max_children = ${spec.maxChildren}`,
    `request_terminate_timeout = ${spec.requestTerminateTimeout}s`,
    'catch_workers_output = yes',
    'clear_env = yes',
    // flush() reaches the gateway at once: no output buffer in between.
    'php_admin_value[output_buffering] = 0',
  ];
  // php-fpm refuses a pool that runs as root unless told to (-R) and told whom to run as.
  if (asRoot) lines.push('user = root', 'group = root');
  return lines.join('\n') + '\n';
}

export function phpScript(spec: PhpFpmSpec): string {
  if (spec.script === 'slow') return `<?php\nusleep(${Math.round(spec.sleepMs) * 1000});\nheader('Content-Type: text/plain');\necho "slow script answered\\n";\n`;
  const interval = Math.max(1, Math.round(spec.intervalMs));
  const n = Math.max(1, Math.floor(spec.sleepMs / interval));
  return `<?php\nheader('Content-Type: text/plain');\necho "started\\n";\nflush();\nfor ($i = 0; $i < ${n}; $i++) {\n  usleep(${interval * 1000});\n  printf("%07d\\n", $i);\n  flush();\n}\n`;
}


function connects(target: { path: string } | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(target as never);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts the master in `dir` (created here, removed on close) and waits until its pool accepts. */
export async function startPhpFpm(spec: PhpFpmSpec, dir: string, opts: { readonly startTimeoutMs?: number } = {}): Promise<RunningBackend & { readonly scriptFilename: string }> {
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  await mkdir(join(dir, 'www'), { recursive: true });
  // Workers and a containerised gateway read through it.
  await chmod(dir, 0o755);
  const host = '127.0.0.1';
  const sock = join(dir, 'php.sock');
  const port = spec.listen === 'tcp' ? await freePort(host) : undefined;
  const listen = port === undefined ? sock : `${host}:${port}`;
  const asRoot = process.getuid?.() === 0;
  const conf = join(dir, 'php-fpm.conf');
  await writeFile(conf, phpFpmConfig(dir, spec, listen, asRoot));
  const scriptFilename = join(dir, SCRIPT);
  await writeFile(scriptFilename, phpScript(spec));
  const args = ['-y', conf, '-p', dir, '-F', ...(asRoot ? ['-R'] : [])];
  const group = startGroup(BACKEND_BINARIES['php-fpm'].path, args, { cwd: dir, outFile: join(dir, OUT) });
  const log = async () => `${await readFile(join(dir, LOG), 'utf8').catch(() => '')}${await readFile(join(dir, OUT), 'utf8').catch(() => '')}`;
  const target = port === undefined ? { path: sock } : { host, port };
  const ready = await waitFor(() => connects(target), group.isDead, timeoutMs);
  const it = owned(group, dir);
  if (!ready) await failedStart('php-fpm', `${BACKEND_BINARIES['php-fpm'].path} ${args.join(' ')}`, group, log, it, timeoutMs);
  if (spec.stopMaster) {
    // A graceful stop, as `systemctl stop php8.2-fpm` does: the master removes its socket and exits.
    await group.stop('SIGQUIT');
    if (port === undefined) await stat(sock).then(() => rm(sock, { force: true }), () => {});
  }
  return {
    spec,
    address: port === undefined ? { kind: 'unix', path: sock } : { kind: 'tcp', host, port },
    protocol: 'fastcgi',
    pid: group.child.pid,
    scriptFilename,
    log,
    ...it,
  };
}
