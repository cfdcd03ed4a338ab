/**
 * Who listens on a port (Linux, from /proc). The readiness check only sees that something accepts
 * on the gateway's address; if another process took the port between freePort() and the gateway's
 * own bind, that process would pass the check for it, and every probe would reach it instead of
 * the gateway. This tells the two apart.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

const TCP_LISTEN = '0A';

/** Inodes of the TCP sockets listening on the port (any address), or undefined where /proc/net cannot be read. */
async function listeningInodes(port: number): Promise<Set<string> | undefined> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(file, 'latin1');
      readable = true;
    } catch {
      continue;
    }
    // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode"
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === TCP_LISTEN && cols[1]?.endsWith(suffix) && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  return readable ? inodes : undefined;
}

/** The pids in process group pgid (field 5 of /proc/<pid>/stat). */
async function groupMembers(pgid: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const members: number[] = [];
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
      // The command name (field 2) is in parentheses and may hold spaces: count from its end.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return members;
}

/**
 * Whether a process of group pgid holds a socket listening on the port: true or false, or
 * undefined where /proc cannot tell (not Linux, or no permission to read the group's descriptors).
 */
export async function groupListensOn(pgid: number, port: number): Promise<boolean | undefined> {
  const inodes = await listeningInodes(port).catch(() => undefined);
  if (inodes === undefined) return undefined;
  if (inodes.size === 0) return false;
  const members = await groupMembers(pgid).catch(() => undefined);
  if (members === undefined) return undefined;
  // No member readable (another user's processes) means /proc cannot tell; no member at all, that none holds it.
  let readAny = members.length === 0;
  for (const pid of members) {
    const holds = await holdsSocket(pid, inodes);
    if (holds) return true;
    if (holds === false) readAny = true;
  }
  return readAny ? false : undefined;
}

/** Whether process pid has one of the sockets open, or undefined when its descriptors cannot be read. */
async function holdsSocket(pid: number, inodes: ReadonlySet<string>): Promise<boolean | undefined> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m && inodes.has(m[1]!)) return true;
  }
  return false;
}

/** The pid and command name of a process holding a socket listening on the port, for an error message (best effort). */
export async function listenerOf(port: number): Promise<string | undefined> {
  const inodes = await listeningInodes(port).catch(() => undefined);
  if (!inodes?.size) return undefined;
  for (const d of await readdir('/proc').catch(() => [] as string[])) {
    if (/^\d+$/.test(d) && (await holdsSocket(Number(d), inodes))) {
      const comm = (await readFile(`/proc/${d}/comm`, 'latin1').catch(() => '?')).trim();
      return `pid ${d} (${comm})`;
    }
  }
  return undefined;
}
