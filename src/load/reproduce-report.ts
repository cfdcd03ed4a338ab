/**
 * The `reproduce` report: the production histogram of reasons and the reproduced one side by
 * side, whether each share was reproduced within its bound, the reasons that could not be and
 * why, then the load run's own report. Console, JSON, markdown and HTML. Pure.
 */
import { htmlEscape as esc } from '../report/html.js';
import { paint, table } from '../report/terminal.js';
import { loadToHtml } from './html.js';
import { loadToConsole, loadToMarkdown, LOAD_REPORT_FORMAT } from './report.js';
import type { ReproduceResult } from './reproduce.js';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function rows(r: ReproduceResult): string[][] {
  return r.comparison.map((c) => [
    c.reason,
    `${c.production.count} (${pct(c.production.share)})`,
    `${c.reproduced.count} (${pct(c.reproduced.share)})`,
    c.why !== undefined && c.production.count > 0 ? 'not reproduced' : c.withinBound === true ? 'within bound' : c.withinBound === false ? 'OUTSIDE bound' : '–',
    c.scenario ?? c.why ?? '',
  ]);
}

const HEAD = ['reason', 'production', 'reproduced', '99.9 % bound', 'scenario / why not'];

function calibrationText(r: ReproduceResult): string {
  const c = r.calibration;
  if (!c) return 'not calibrated: weights are the log\'s line counts';
  return `calibrated: log lines per request ${c.yields.map((y) => `${y.fault} ${y.linesPerRequest === undefined ? 'none' : y.linesPerRequest.toFixed(2)}`).join(', ')}; mix ${c.mix.map((e) => `${e.fault}:${e.weight}`).join(',')}`;
}

function summary(r: ReproduceResult): string {
  const notRepro = r.plan.reasons.filter((x) => x.why).length;
  return `${r.log.file}: ${r.log.lines} lines, ${r.log.withReason} with a reason (${r.comparison.filter((c) => c.production.count > 0).length} reasons); ${notRepro ? `${notRepro} could not be reproduced; ` : ''}${r.reproduced ? 'every reproducible share reproduced within its bound' : 'some shares differ beyond chance'}`;
}

export function reproduceToConsole(r: ReproduceResult, color: boolean): string {
  const p = paint(color);
  return `${loadToConsole(r.load, color)}\n${p('bold', 'badgateway reproduce')}  ${summary(r)}\n${table([HEAD, ...rows(r)]).replace(/^/gm, '  ')}\n${p('dim', `  shares are of the lines with a reason on each side; the bound is the two-proportion test at 99.9 %\n  ${calibrationText(r)}`)}\n`;
}

export function reproduceToJson(r: ReproduceResult): string {
  return JSON.stringify({ ...r, load: { format: LOAD_REPORT_FORMAT, ...r.load } }, null, 2) + '\n';
}

export function reproduceToMarkdown(r: ReproduceResult): string {
  const out = [`## badgateway reproduce`, '', summary(r), '', `| ${HEAD.join(' | ')} |`, '|---|---:|---:|---|---|'];
  for (const row of rows(r)) out.push(`| ${row.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`);
  out.push('', 'Shares are of the lines with a reason on each side; the bound is the two-proportion test at 99.9 %.', '', `${calibrationText(r)}.`, '');
  return out.join('\n') + '\n' + loadToMarkdown(r.load).replace(/^## /, '### ');
}

export function reproduceToHtml(r: ReproduceResult): string {
  const trs = rows(r).map((row) => `<tr>${row.map((x, i) => `<td${i === 1 || i === 2 ? ' class="num"' : i === 0 ? ' class="reason"' : ''}>${esc(x)}</td>`).join('')}</tr>`).join('');
  const section = `<h2>Production and reproduction</h2><p class="summary">${esc(summary(r))}</p><p class="meta">${esc(calibrationText(r))}</p><table><thead><tr>${HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${trs}</tbody></table><h2>The load run</h2>`;
  return loadToHtml(r.load).replace('<h1>badgateway load</h1>', `<h1>badgateway reproduce</h1>\n${section}`);
}
