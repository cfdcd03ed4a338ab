/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time per function,
 * heaviest first, as a share of busy (non-idle) time, so a benchmark can say
 * where a server spends its CPU. Native calls such as writeBuffer include the
 * system call they make (for a socket write: the whole loopback TCP send).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export function summarizeProfile(file, { top = 15, root = process.cwd() } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  // Sample counts per node, weighted by the time each sample stands for.
  const selfUs = new Map();
  const deltas = prof.timeDeltas ?? [];
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const agg = new Map();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    // (idle) is the event loop waiting: not work. Everything else (incl. (program), GC) is.
    if (cf.functionName === '(idle)') continue;
    busyUs += us;
    const key = `${cf.functionName || '(anonymous)'}\t${cf.url}\t${cf.lineNumber}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
  }
  const rows = [...agg.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [fn, url, line] = key.split('\t');
      return { function: fn, where: shortUrl(url, root) + (url ? `:${Number(line) + 1}` : ''), selfPct: (100 * us) / busyUs, selfMs: us / 1000 };
    });
  return { busyMs: busyUs / 1000, rows };
}

function shortUrl(url, root) {
  if (!url) return '';
  if (url.startsWith('file://')) return relative(root, fileURLToPath(url));
  return url;
}
