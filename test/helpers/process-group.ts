/** Processes by group, read from /proc: what a test checks is left after a run. */
import { readdirSync, readFileSync } from 'node:fs';

/** Whether any process of the group `pid` leads still runs (a zombie waiting to be reaped has ended). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its closing paren.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pid && state !== 'Z') return true;
    } catch {
      /* gone meanwhile */
    }
  }
  return false;
}
