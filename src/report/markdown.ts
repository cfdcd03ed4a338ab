/** Markdown for a CI job summary: the scenario × gateway matrix, then the failures with their evidence. */
import type { CaseResult, SuiteResult } from '../harness/run.js';
import { caseState, changeFromBaseline, evidenceLines, gatewayLabel, skipReasons, totals } from './model.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function cell(c: CaseResult | undefined, skippedWhy: string | undefined): string {
  if (!c) return skippedWhy ? esc(`⏭ skipped: ${skippedWhy}`) : 'not run';
  const s = caseState(c);
  const mark = s === 'pass' ? '✅' : s === 'fail' ? '❌' : '👁';
  const o = c.observed;
  const status = o.counts ? Object.entries(o.counts).map(([k, n]) => `${n}×${k}`).join(' ') : String(o.status);
  const parts = [`${mark} ${status}`];
  if (o.body === 'truncated') parts.push('truncated');
  parts.push(o.reasons.join(', ') || '-');
  parts.push(`${o.durationMs} ms`);
  const ch = changeFromBaseline(c);
  if (ch && ch.change !== 'same') parts.push(`${ch.change} (default: ${ch.baseline})`);
  return esc(parts.join(' · '));
}

export function toMarkdown(result: SuiteResult): string {
  const out: string[] = [`## badgateway: ${totals(result)}`, ''];
  // Every scenario a gateway ran or skipped gets a row: one every gateway skipped still shows why.
  const ids = [...new Set(result.runs.flatMap((r) => [...r.cases.map((c) => c.scenario.id), ...r.skipped.map((s) => s.scenario.id)]))].sort();
  const index = result.runs.map((r) => new Map(r.cases.map((c) => [c.scenario.id, c])));
  const skips = result.runs.map(skipReasons);
  out.push(`| scenario | ${result.runs.map((r) => esc(gatewayLabel(r) + (r.userConfig ? ` with ${r.userConfig}` : ''))).join(' | ')} |`);
  out.push(`|---|${result.runs.map(() => '---').join('|')}|`);
  for (const id of ids) out.push(`| ${esc(id)} | ${index.map((m, i) => cell(m.get(id), skips[i]!.get(id))).join(' | ')} |`);
  out.push('', '✅ expectation holds · ❌ expectation failed · 👁 observed, no expectation for this gateway or version · ⏭ skipped, with the reason', '');
  for (const run of result.runs) {
    if (run.skipped.length) {
      out.push(`Skipped on ${esc(gatewayLabel(run))}: ${run.skipped.map((s) => `${s.scenario.id} (${s.why})`).join('; ')}`, '');
    }
  }
  const failed = result.runs.flatMap((r) => r.cases.filter((c) => caseState(c) === 'fail'));
  if (failed.length) {
    out.push('### Failures', '');
    for (const c of failed) {
      out.push(`<details><summary><b>${c.scenario.id}</b> on ${c.gateway}: ${esc(c.verdict!.mismatches.map((m) => `${m.field} expected ${m.expected}, observed ${m.observed}`).join('; '))}</summary>`, '');
      out.push('```', ...evidenceLines(c, 10), '```', '', '</details>', '');
    }
  }
  return out.join('\n') + '\n';
}
