/** Binding with errors a user can act on, and the descriptor budget the listeners share. */
import { readFileSync } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import { InputError, StartError } from '../errors.js';

/** sun_path is 108 bytes on Linux, with a NUL: a longer path is cut short by libuv, silently, and the socket lands elsewhere. */
const UNIX_PATH_MAX = 107;

export function listen(server: Server, opts: { host?: string; port?: number; path?: string; backlog?: number }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (opts.path !== undefined) {
        void unixListenError(err, opts.path, what).then(reject);
        return;
      }
      const addr = `${opts.host}:${opts.port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new StartError(
            'BG_ADDRESS_IN_USE',
            `cannot listen on ${addr} for ${what}: the port is already in use. Stop the process that holds it (\`ss -ltnp 'sport = :${opts.port}'\` shows it) or pick another port (0 picks a free one).`,
            { cause: err },
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(new StartError('BG_ADDRESS_DENIED', `cannot listen on ${addr} for ${what}: permission denied. Ports below 1024 need privileges; pick a higher port.`, { cause: err }));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new StartError('BG_ADDRESS_UNAVAILABLE', `cannot listen on ${addr} for ${what}: no local interface has that address.`, { cause: err }));
      } else {
        reject(new StartError('BG_LISTEN_FAILED', `cannot listen on ${addr} for ${what}: ${err.message}`, { cause: err }));
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    const port = opts.port ?? 0;
    if (opts.path === undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
      // Node would throw ERR_SOCKET_BAD_PORT, a RangeError the CLI could only report as a bug.
      reject(new InputError('BG_BAD_OPTION', `port ${String(port)} for ${what}: give a whole number from 0 to 65535 (0 picks a free one).`));
      return;
    }
    if (opts.path !== undefined && Buffer.byteLength(opts.path) > UNIX_PATH_MAX) {
      reject(
        new StartError(
          'BG_LISTEN_FAILED',
          `cannot listen on ${opts.path} for ${what}: a unix socket path can be at most ${UNIX_PATH_MAX} bytes and this one has ${Buffer.byteLength(opts.path)}. Pick a shorter path (e.g. under /tmp).`,
        ),
      );
      return;
    }
    server.once('error', onError);
    server.once('listening', onListening);
    if (opts.path !== undefined) server.listen({ path: opts.path, backlog: opts.backlog });
    else server.listen({ host: opts.host, port, backlog: opts.backlog });
  });
}

/**
 * Why a unix socket could not be bound, found by looking at the path: libuv reports a missing
 * directory as EACCES (for Windows' sake), which would otherwise read as a privilege problem.
 */
async function unixListenError(err: NodeJS.ErrnoException, path: string, what: string): Promise<StartError> {
  const at = `cannot listen on ${path} for ${what}`;
  const dir = dirname(resolvePath(path));
  const kind = async (p: string) => {
    try {
      const st = await lstat(p);
      return st.isSocket() ? 'socket' : st.isDirectory() ? 'directory' : 'file';
    } catch {
      return 'missing';
    }
  };
  if (err.code === 'EADDRINUSE') {
    const k = await kind(path);
    if (k !== 'socket' && k !== 'missing') {
      return new StartError('BG_ADDRESS_IN_USE', `${at}: a ${k} already exists at that path and is not a socket. Pick another path.`, { cause: err });
    }
    return new StartError(
      'BG_ADDRESS_IN_USE',
      `${at}: the socket file already exists. Another process may be listening on it; if none is, it was left behind: remove it (rm ${path}) or pick another path.`,
      { cause: err },
    );
  }
  if (err.code === 'ENOTDIR') {
    return new StartError('BG_SOCKET_DIR_MISSING', `${at}: a part of the path before the file name is not a directory. Pick a path in an existing directory.`, { cause: err });
  }
  if (err.code === 'EACCES' || err.code === 'ENOENT') {
    let dirKind: string;
    try {
      dirKind = (await stat(dir)).isDirectory() ? 'directory' : 'not-directory';
    } catch {
      dirKind = 'missing';
    }
    if (dirKind === 'missing') {
      return new StartError('BG_SOCKET_DIR_MISSING', `${at}: the directory ${dir} does not exist. Create it (mkdir -p ${dir}) or pick a path in an existing directory.`, { cause: err });
    }
    if (dirKind === 'not-directory') {
      return new StartError('BG_SOCKET_DIR_MISSING', `${at}: ${dir} is not a directory. Pick a path in an existing directory.`, { cause: err });
    }
    return new StartError(
      'BG_ADDRESS_DENIED',
      `${at}: permission denied creating a socket file in ${dir} (this user cannot write there, or its file system does not take sockets). Pick a directory you can write to, e.g. /tmp.`,
      { cause: err },
    );
  }
  return new StartError('BG_LISTEN_FAILED', `${at}: ${err.message}`, { cause: err });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** When the process's descriptor limit cannot be read (not Linux): a common soft limit. */
const FALLBACK_DESCRIPTOR_LIMIT = 1024;

/**
 * The soft limit on this process's open descriptors (`ulimit -n`), as Node runs with it: Node raises
 * its soft limit to the hard one at startup, so this is read from /proc/self/limits rather than
 * assumed. Node has no API for it; elsewhere than Linux, a fixed 1024.
 */
export function descriptorLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (m) return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    /* not Linux */
  }
  return FALLBACK_DESCRIPTOR_LIMIT;
}

/**
 * The default connection cap of the HTTP and unix listeners: the descriptor limit minus a reserve
 * (a tenth of it, from 128 to 1024) for everything else the process holds or opens while the HTTP
 * side is full: the control API and its event-stream clients, the DNS responder's TCP connections,
 * listener faults, a gateway the harness starts (its pipes and log files), fault and scenario
 * files. A limit too small for that reserve keeps half for the listeners.
 */
export function defaultMaxConnections(limit = descriptorLimit()): number {
  const reserve = Math.min(1024, Math.max(128, Math.floor(limit / 10)));
  return limit - reserve >= limit / 2 ? limit - reserve : Math.max(1, Math.floor(limit / 2));
}

/**
 * A port free on `host` right now, for a server started by something else that needs one up front
 * (a gateway, php-fpm). It is drawn at random from outside the kernel's ephemeral range
 * (net.ipv4.ip_local_port_range), from 10000 up: a port the kernel hands out for bind(0) or an
 * outgoing connection could be taken by another process (another run's upstream, which listens on
 * dozens of kernel-chosen ports) between this check and the server's own bind, and the readiness
 * check would then be answered by that process instead. Where the range cannot be read, or every
 * draw is taken, it is the kernel's choice.
 */
export async function freePort(host: string, range = ephemeralRange()): Promise<number> {
  const outside = range ? portsOutside(range) : [];
  for (let attempt = 0; attempt < 32 && outside.length > 0; attempt++) {
    let n = Math.floor(Math.random() * outside.reduce((sum, [lo, hi]) => sum + hi - lo + 1, 0));
    const [lo] = outside.find(([a, b]) => (n < b - a + 1 ? true : ((n -= b - a + 1), false)))!;
    const port = await tryBind(host, lo + n);
    if (port !== undefined) return port;
  }
  const port = await tryBind(host, 0);
  if (port === undefined) throw new InputError('BG_ADDRESS_UNAVAILABLE', `no free TCP port on ${host}: no local interface may have that address (127.0.0.1 and ::1 always work), or every port is taken.`);
  return port;
}

/** The kernel's ephemeral port range (Linux), or undefined elsewhere. */
export function ephemeralRange(): readonly [number, number] | undefined {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/).map(Number);
    return Number.isInteger(lo) && Number.isInteger(hi) ? [lo!, hi!] : undefined;
  } catch {
    return undefined;
  }
}

/** The stretches from 10000 to 65535 outside [lo, hi]. */
export function portsOutside([lo, hi]: readonly [number, number]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (lo - 1 >= 10_000) out.push([10_000, Math.min(lo - 1, 65_535)]);
  if (hi + 1 <= 65_535) out.push([Math.max(hi + 1, 10_000), 65_535]);
  return out;
}

function tryBind(host: string, port: number): Promise<number | undefined> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(undefined));
    s.listen({ host, port, exclusive: true }, () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
}
