/**
 * Real application servers as a scenario's upstream: what a `backend:` key says (pure data), and
 * what a started one is. The runners (gunicorn.ts, php-fpm.ts) start their server in a directory
 * of their own, in its own process group, and stop it whole.
 */
import { access, constants } from 'node:fs/promises';

export interface GunicornSpec {
  readonly kind: 'gunicorn';
  /** `--timeout`, in whole seconds (gunicorn takes no fraction): a sync worker silent for longer is killed by its arbiter. */
  readonly timeout: number;
  /** `slow`: sleeps `sleepMs`, then answers; `slow-body`: sends the head (with Content-Length) at once, then the body a piece every `intervalMs` for `sleepMs`. */
  readonly app: 'slow' | 'slow-body';
  readonly sleepMs: number;
  readonly intervalMs: number;
}

export interface PhpFpmSpec {
  readonly kind: 'php-fpm';
  /** `pm.max_children` of a static pool. */
  readonly maxChildren: number;
  /** `request_terminate_timeout`, in whole seconds; 0 = none. */
  readonly requestTerminateTimeout: number;
  /** `listen.backlog`: how many connections wait for a free child before the kernel refuses more. */
  readonly backlog: number;
  /** The script: `slow` sleeps `sleepMs`, then answers; `slow-body` sends its head and a first line at once, then a line every `intervalMs` for `sleepMs`. */
  readonly script: 'slow' | 'slow-body';
  readonly sleepMs: number;
  readonly intervalMs: number;
  /** Where the pool listens: its own unix socket (mode 0666) or a TCP port on 127.0.0.1. */
  readonly listen: 'unix' | 'tcp';
  /** Stop the master (SIGQUIT, then wait) once it is ready: the socket is gone before the first request. */
  readonly stopMaster: boolean;
}

export type BackendSpec = GunicornSpec | PhpFpmSpec;
export type BackendKind = BackendSpec['kind'];

/** The binary each kind runs: Debian's packages (php8.2-fpm, gunicorn), by path as .ci/run checks them. */
export const BACKEND_BINARIES: Readonly<Record<BackendKind, { readonly path: string; readonly pkg: string }>> = {
  gunicorn: { path: '/usr/bin/gunicorn', pkg: 'gunicorn' },
  'php-fpm': { path: '/usr/sbin/php-fpm8.2', pkg: 'php8.2-fpm' },
};

/** Why this kind cannot run here (its binary is missing), or undefined. */
export async function backendMissing(kind: BackendKind): Promise<string | undefined> {
  const b = BACKEND_BINARIES[kind];
  try {
    await access(b.path, constants.X_OK);
    return undefined;
  } catch {
    return `needs ${kind} (${b.path}), which is not installed: apt-get install ${b.pkg}`;
  }
}

/** Where a started backend answers. */
export type BackendAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export interface RunningBackend {
  readonly spec: BackendSpec;
  readonly address: BackendAddress;
  readonly protocol: 'http' | 'fastcgi';
  /** The process group's leader (the master), while it runs. */
  readonly pid: number | undefined;
  /** The server's own log so far (its error log, its output). */
  log(): Promise<string>;
  /** Stops the whole process group (TERM, KILL after 3 s) and removes its directory. */
  close(): Promise<void>;
  /** This process is exiting: SIGKILL the group and remove the directory, synchronously. */
  abandon(): void;
}

/** One line for reports and the field guide: what the backend is and which of its settings make the situation. */
export function describeBackend(b: BackendSpec): string {
  if (b.kind === 'gunicorn') {
    const app = b.app === 'slow' ? `an app that sleeps ${b.sleepMs} ms before answering` : `an app that sends its head, then its body over ${b.sleepMs} ms`;
    return `gunicorn --workers 1 --timeout ${b.timeout}, ${app}`;
  }
  const parts = [`php-fpm (pm = static, pm.max_children = ${b.maxChildren}`];
  if (b.requestTerminateTimeout > 0) parts.push(`request_terminate_timeout = ${b.requestTerminateTimeout}s`);
  parts.push(`listen.backlog = ${b.backlog}`);
  return `${parts.join(', ')}) over ${b.listen === 'unix' ? 'a unix socket' : 'TCP'}, ${b.script === 'slow' ? `a script that sleeps ${b.sleepMs} ms` : `a script that writes its body over ${b.sleepMs} ms`}${b.stopMaster ? '; the master stopped before the requests' : ''}`;
}
