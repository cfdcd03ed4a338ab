/**
 * The load report in three forms: console (a terminal), JSON (machines: every count, the
 * histogram's buckets, the timeline) and markdown (a PR or a job summary). Pure.
 */
import { paint, table } from '../report/terminal.js';
import type { LoadResult } from './run.js';
import type { SweepResult } from './sweep.js';

export const LOAD_REPORT_FORMAT = 'badgateway-load/1';

export function loadToJson(r: LoadResult): string {
  return JSON.stringify({ format: LOAD_REPORT_FORMAT, ...r }, null, 2) + '\n';
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 2)} %`;
const ms = (x: number | undefined) => (x === undefined ? '–' : `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x)} ms`);

function statusRows(r: LoadResult): string[][] {
  return Object.entries(r.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k === 'none' ? 'no response' : k, String(v), pct(r.sent ? v / r.sent : 0)]);
}

function headline(r: LoadResult): string {
  const g = r.gateway;
  return `${g.id}${g.version ? ` ${g.version}` : ''} (${g.runtime}) · ${r.settings.method} at ${r.settings.rate}/s for ${r.windowMs / 1000} s · ${r.settings.connections} connections · seed ${r.settings.seed}`;
}

function noResponseText(r: LoadResult): string {
  return Object.entries(r.noResponse).map(([k, v]) => `${k} ${v}`).join(', ');
}

export function loadToConsole(r: LoadResult, color: boolean): string {
  const p = paint(color);
  const out: string[] = [];
  out.push(p('bold', `badgateway load: ${headline(r)}`) + (r.interrupted ? p('yellow', '  (interrupted: partial report)') : ''));
  out.push(`sent ${r.sent} of ${r.due} due · achieved ${r.achievedRate.toFixed(1)}/s${r.unsent ? p('yellow', ` · ${r.unsent} never sent (every connection busy)`) : ''} · ${r.queued} waited for a connection · ${r.late} sent over 5 ms late (max ${ms(r.maxSendDelayMs)}) · ${r.connectionsOpened} connections opened`);
  out.push('');
  out.push(p('bold', 'status'));
  out.push(table(statusRows(r)).replace(/^/gm, '  '));
  if (Object.keys(r.noResponse).length) out.push(p('dim', `  no response: ${noResponseText(r)}`));
  out.push(`${p('bold', 'body')}  complete ${r.byBody.complete} · truncated ${r.byBody.truncated} · none ${r.byBody.none}`);
  const e = r.errors;
  out.push(`${p('bold', 'errors')}  ${e.count} of ${e.of} = ${p(e.count ? 'red' : 'green', pct(e.rate))}  (95 % CI ${pct(e.low)} – ${pct(e.high)}, Wilson)`);
  const l = r.latencyMs;
  out.push(`${p('bold', 'latency')}  ${l ? `p50 ${ms(l.p50)} · p90 ${ms(l.p90)} · p99 ${ms(l.p99)} · p99.9 ${ms(l.p999)} · max ${ms(l.max)}` : 'no request finished'}  ${p('dim', '(from when each was due)')}`);
  if (r.byFault.length > 1) {
    out.push('');
    out.push(p('bold', 'by fault'));
    out.push(table(r.byFault.map((f) => [f.fault, `weight ${f.weight}`, `${f.sent} sent`, Object.entries(f.byStatus).map(([k, v]) => `${k === 'none' ? 'no response' : k} ${v}`).join(', ')])).replace(/^/gm, '  '));
  }
  out.push('');
  out.push(p('bold', 'gateway log reasons'));
  if (r.logReasons.length === 0) out.push('  none');
  for (const x of r.logReasons) out.push(`  ${x.reason}  ${x.count}\n    ${p('dim', x.example)}`);
  out.push('');
  out.push(`replay: ${r.command}  ${p('dim', `(fault sequence ${r.sequenceDigest})`)}`);
  return out.join('\n') + '\n';
}

export function loadToMarkdown(r: LoadResult): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/`/g, "'");
  const out: string[] = [];
  out.push(`## badgateway load${r.interrupted ? ' (interrupted: partial report)' : ''}`, '', headline(r), '');
  out.push(`Sent **${r.sent}** of ${r.due} due, achieved **${r.achievedRate.toFixed(1)}/s**${r.unsent ? `, ${r.unsent} never sent (every connection busy)` : ''}; ${r.queued} waited for a free connection, ${r.late} went out over 5 ms late (max ${ms(r.maxSendDelayMs)}); latency counts from when each was due.`, '');
  const e = r.errors;
  out.push(`Errors (non-2xx or no response): **${e.count} of ${e.of} = ${pct(e.rate)}**, 95 % CI ${pct(e.low)} – ${pct(e.high)} (Wilson).`, '');
  out.push('| status | requests | share |', '|---|---:|---:|', ...statusRows(r).map((row) => `| ${row.join(' | ')} |`), '');
  if (Object.keys(r.noResponse).length) out.push(`No response: ${noResponseText(r)}.`, '');
  out.push(`Body: complete ${r.byBody.complete}, truncated ${r.byBody.truncated}, none ${r.byBody.none}.`, '');
  const l = r.latencyMs;
  if (l) out.push('| p50 | p90 | p99 | p99.9 | max |', '|---:|---:|---:|---:|---:|', `| ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} |`, '');
  if (r.byFault.length > 1) {
    out.push('| fault | weight | sent | statuses |', '|---|---:|---:|---|');
    for (const f of r.byFault) out.push(`| ${f.fault} | ${f.weight} | ${f.sent} | ${Object.entries(f.byStatus).map(([k, v]) => `${k === 'none' ? 'no response' : k} ${v}`).join(', ')} |`);
    out.push('');
  }
  out.push('| gateway log reason | lines | example |', '|---|---:|---|');
  for (const x of r.logReasons) out.push(`| ${x.reason} | ${x.count} | \`${esc(x.example)}\` |`);
  if (r.logReasons.length === 0) out.push('| none | 0 | |');
  out.push('', `Replay (fault sequence ${r.sequenceDigest}):`, '', '```sh', r.command, '```', '');
  return out.join('\n');
}

function sweepRows(s: SweepResult): string[][] {
  return s.rows.map(({ value, result: r }) => [`${s.param}=${value}`, String(r.sent), `${r.achievedRate.toFixed(1)}/s`, pct(r.errors.rate), `${pct(r.errors.low)} – ${pct(r.errors.high)}`, ms(r.latencyMs?.p50), ms(r.latencyMs?.p99), r.logReasons.map((x) => `${x.reason} ${x.count}`).join(', ') || 'none']);
}

const SWEEP_HEAD = ['value', 'sent', 'achieved', 'errors', '95 % CI', 'p50', 'p99', 'log reasons'];

export function sweepToJson(s: SweepResult): string {
  return JSON.stringify({ ...s, rows: s.rows.map((row) => ({ value: row.value, result: { format: LOAD_REPORT_FORMAT, ...row.result } })) }, null, 2) + '\n';
}

export function sweepToConsole(s: SweepResult, color: boolean): string {
  const p = paint(color);
  const each = s.rows.map((row) => loadToConsole(row.result, color)).join('\n');
  return `${each}\n${p('bold', `sweep of ${s.param}: one run per value`)}${s.interrupted ? p('yellow', '  (interrupted: partial report)') : ''}\n${table([SWEEP_HEAD, ...sweepRows(s)]).replace(/^/gm, '  ')}\n`;
}

export function sweepToMarkdown(s: SweepResult): string {
  const out = [`## badgateway load: sweep of ${s.param}${s.interrupted ? ' (interrupted: partial report)' : ''}`, '', `| ${SWEEP_HEAD.join(' | ')} |`, `|---|${SWEEP_HEAD.slice(1).map(() => '---:').join('|')}|`];
  for (const row of sweepRows(s)) out.push(`| ${row.join(' | ')} |`);
  out.push('');
  return out.join('\n') + '\n' + s.rows.map((row) => loadToMarkdown(row.result).replace(/^## /, '### ')).join('\n');
}
