/**
 * The load report as one self-contained page, in the suite report's style (src/report/html.ts):
 * the numbers, and per-second plots of p99 latency and the error rate drawn as inline SVG, so the
 * page opens anywhere with no script and no external asset. A sweep is one table row per value
 * and one pair of plots per value. Pure.
 */
import { htmlEscape as esc, STYLE } from '../report/html.js';
import type { LoadResult } from './run.js';
import type { SweepResult } from './sweep.js';

const PLOT_STYLE = `
.plots { display: flex; flex-wrap: wrap; gap: 16px; margin: 8px 0 24px; }
figure { margin: 0; } figcaption { font-size: 12px; color: #57606a; }
svg.plot { background: #fff; border: 1px solid var(--line); }
svg.plot text { font: 11px system-ui, sans-serif; fill: #57606a; }
svg.plot .grid { stroke: #eaeef2; } svg.plot .axis { stroke: #8c959f; }
svg.plot .lat { stroke: #0969da; fill: none; stroke-width: 1.5; } svg.plot .err { stroke: var(--fail); fill: none; stroke-width: 1.5; }
svg.plot .bar { fill: #54aeff; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code.cmd { display: block; white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: 8px; }
`;

const W = 480;
const H = 200;
const PAD = { l: 56, r: 12, t: 12, b: 32 };

/** A round upper bound for an axis: 1, 2 or 5 × a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** A line over time (x: seconds from the start), with a gap where a second has no value. */
export function linePlot(points: ReadonlyArray<readonly [number, number | undefined]>, opts: { readonly cls: string; readonly yLabel: (v: number) => string; readonly title: string }): string {
  const xs = points.map(([x]) => x);
  const xMax = Math.max(1, ...xs.map((x) => x + 1));
  const yMax = niceMax(Math.max(0, ...points.map(([, y]) => y ?? 0)));
  const px = (x: number) => PAD.l + ((x + 0.5) / xMax) * (W - PAD.l - PAD.r);
  const py = (y: number) => H - PAD.b - (y / yMax) * (H - PAD.t - PAD.b);
  const segments: string[] = [];
  let cur: string[] = [];
  for (const [x, y] of points) {
    if (y === undefined) {
      if (cur.length) segments.push(cur.join(' '));
      cur = [];
      continue;
    }
    cur.push(`${px(x).toFixed(1)},${py(y).toFixed(1)}`);
  }
  if (cur.length) segments.push(cur.join(' '));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const grid = ticks.map((t) => `<line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}"/><text x="${PAD.l - 4}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${esc(opts.yLabel(t))}</text>`).join('');
  const xTicks = [0, Math.round(xMax / 2), xMax].map((t) => `<text x="${(PAD.l + (t / xMax) * (W - PAD.l - PAD.r)).toFixed(1)}" y="${H - PAD.b + 16}" text-anchor="middle">${t} s</text>`).join('');
  const lines = segments.map((s) => (s.includes(' ') ? `<polyline class="${opts.cls}" points="${s}"/>` : `<circle class="${opts.cls}" r="2" cx="${s.split(',')[0]}" cy="${s.split(',')[1]}"/>`)).join('');
  return `<svg class="plot" role="img" aria-label="${esc(opts.title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${grid}<line class="axis" x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}"/>${xTicks}${lines}</svg>`;
}

/** The latency histogram's buckets as bars on a log-spaced axis (bucket width doubles per power of two). */
function histogramPlot(r: LoadResult): string {
  if (r.latencyBuckets.length === 0) return '';
  // Fold the fine buckets into 24 log-spaced bins from the smallest value to the largest.
  const lo = Math.max(1, r.latencyBuckets[0]![0]);
  const hi = Math.max(lo * 2, r.latencyBuckets[r.latencyBuckets.length - 1]![1]);
  const bins = 24;
  const counts = new Array<number>(bins).fill(0);
  const at = (v: number) => Math.min(bins - 1, Math.max(0, Math.floor((Math.log(Math.max(v, lo)) - Math.log(lo)) / ((Math.log(hi) - Math.log(lo)) / bins))));
  for (const [low, , n] of r.latencyBuckets) counts[at(low)]! += n;
  const yMax = Math.max(...counts);
  const bw = (W - PAD.l - PAD.r) / bins;
  const bars = counts.map((n, i) => {
    const h = (n / yMax) * (H - PAD.t - PAD.b);
    return n ? `<rect class="bar" x="${(PAD.l + i * bw + 1).toFixed(1)}" y="${(H - PAD.b - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}"><title>${n}</title></rect>` : '';
  });
  const label = (us: number) => (us >= 1000 ? `${(us / 1000).toPrecision(3)} ms` : `${Math.round(us)} µs`);
  return `<figure><svg class="plot" role="img" aria-label="latency histogram" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${bars.join('')}<line class="axis" x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}"/><text x="${PAD.l}" y="${H - PAD.b + 16}">${label(lo)}</text><text x="${W - PAD.r}" y="${H - PAD.b + 16}" text-anchor="end">${label(hi)}</text></svg><figcaption>latency histogram (log-spaced bins, ${r.latencyMs ? r.errors.of : 0} requests)</figcaption></figure>`;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 2)} %`;
const ms = (x: number | undefined) => (x === undefined ? '–' : `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x)} ms`);

function plots(r: LoadResult): string {
  const lat = r.timeline.map((b) => [b.second, b.p99Ms] as const);
  const err = r.timeline.map((b) => [b.second, b.done ? b.errors / b.done : undefined] as const);
  return `<div class="plots">
<figure>${linePlot(lat, { cls: 'lat', yLabel: (v) => ms(v), title: 'p99 latency per second' })}<figcaption>p99 latency per second (from when each request was due)</figcaption></figure>
<figure>${linePlot(err, { cls: 'err', yLabel: (v) => pct(v), title: 'error rate per second' })}<figcaption>error rate per second (non-2xx or no response)</figcaption></figure>
${histogramPlot(r)}
</div>`;
}

function headline(r: LoadResult): string {
  const g = r.gateway;
  return `${g.id}${g.version ? ` ${g.version}` : ''} (${g.runtime}) · ${r.settings.method} at ${r.settings.rate}/s for ${r.windowMs / 1000} s · ${r.settings.connections} connections · seed ${r.settings.seed}`;
}

function body(r: LoadResult): string {
  const e = r.errors;
  const l = r.latencyMs;
  const statuses = Object.entries(r.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `<tr><td>${esc(k === 'none' ? 'no response' : k)}</td><td class="num">${v}</td><td class="num">${pct(r.sent ? v / r.sent : 0)}</td></tr>`)
    .join('');
  const faults = r.byFault.map((f) => `<tr><td class="reason">${esc(f.fault)}</td><td class="num">${f.weight}</td><td class="num">${f.sent}</td><td>${esc(Object.entries(f.byStatus).map(([k, v]) => `${k === 'none' ? 'no response' : k} ${v}`).join(', '))}</td></tr>`).join('');
  const reasons = r.logReasons.map((x) => `<tr><td class="reason">${esc(x.reason)}</td><td class="num">${x.count}</td><td><details><summary>example</summary><pre>${esc(x.example)}</pre></details></td></tr>`).join('') || '<tr><td colspan="3">none</td></tr>';
  return `<p class="summary">${esc(headline(r))}${r.interrupted ? ' · <b class="fail">interrupted: partial report</b>' : ''}</p>
<p>Sent <b>${r.sent}</b> of ${r.due} due, achieved <b>${r.achievedRate.toFixed(1)}/s</b>${r.unsent ? `, ${r.unsent} never sent (every connection busy)` : ''}; ${r.queued} waited for a connection, ${r.late} went out over 5 ms late.</p>
<p>Errors (non-2xx or no response): <b class="${e.count ? 'fail' : 'pass'}">${e.count} of ${e.of} = ${pct(e.rate)}</b>, 95 % CI ${pct(e.low)} – ${pct(e.high)} (Wilson). Body: complete ${r.byBody.complete}, truncated ${r.byBody.truncated}, none ${r.byBody.none}.</p>
${l ? `<table><thead><tr><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead><tbody><tr>${[l.p50, l.p90, l.p99, l.p999, l.max].map((x) => `<td class="num">${ms(x)}</td>`).join('')}</tr></tbody></table>` : '<p>No request finished.</p>'}
${plots(r)}
<table><thead><tr><th>status</th><th>requests</th><th>share</th></tr></thead><tbody>${statuses}</tbody></table>
<h2>By fault</h2>
<table><thead><tr><th>fault</th><th>weight</th><th>sent</th><th>statuses</th></tr></thead><tbody>${faults}</tbody></table>
<h2>Gateway log reasons</h2>
<table><thead><tr><th>reason</th><th>lines</th><th>example</th></tr></thead><tbody>${reasons}</tbody></table>
<p>Replay (fault sequence ${esc(r.sequenceDigest)}):</p><code class="cmd">${esc(r.command)}</code>`;
}

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}${PLOT_STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${content}
</body></html>
`;
}

export function loadToHtml(r: LoadResult): string {
  return page('badgateway load', body(r));
}

export function sweepToHtml(s: SweepResult): string {
  const rows = s.rows
    .map(({ value, result: r }) => `<tr><th>${esc(`${s.param}=${value}`)}</th><td class="num">${r.sent}</td><td class="num">${r.achievedRate.toFixed(1)}/s</td><td class="num">${pct(r.errors.rate)}</td><td class="num">${pct(r.errors.low)} – ${pct(r.errors.high)}</td><td class="num">${ms(r.latencyMs?.p50)}</td><td class="num">${ms(r.latencyMs?.p99)}</td><td class="reason">${esc(r.logReasons.map((x) => `${x.reason} ${x.count}`).join(', ') || 'none')}</td></tr>`)
    .join('');
  const table = `<p class="summary">one run per value of ${esc(s.param)}${s.interrupted ? ' · <b class="fail">interrupted: partial report</b>' : ''}</p>
<table><thead><tr><th>${esc(s.param)}</th><th>sent</th><th>achieved</th><th>errors</th><th>95 % CI</th><th>p50</th><th>p99</th><th>log reasons</th></tr></thead><tbody>${rows}</tbody></table>`;
  const each = s.rows.map(({ value, result }) => `<h2>${esc(`${s.param}=${value}`)}</h2>${body(result)}`).join('\n');
  return page(`badgateway load: sweep of ${s.param}`, `${table}\n${each}`);
}
