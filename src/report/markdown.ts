/** Markdown for a CI job summary: a table per gateway, then the failures with their evidence. */
import type { SuiteResult } from '../harness/run.js';
import { caseState, changeFromBaseline, evidenceLines, gatewayLabel, totals } from './model.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(result: SuiteResult): string {
  const out: string[] = [`## badgateway: ${totals(result)}`, ''];
  for (const run of result.runs) {
    out.push(`### ${gatewayLabel(run)}${run.userConfig ? ` with \`${run.userConfig}\`` : ''}`, '');
    const compare = run.userConfig !== undefined;
    out.push(`| | scenario | status | body | reason | time |${compare ? ' vs default config |' : ''}`, `|---|---|---|---|---|---|${compare ? '---|' : ''}`);
    for (const c of run.cases) {
      const s = caseState(c);
      const mark = s === 'pass' ? '✅' : s === 'fail' ? '❌' : '👁';
      const o = c.observed;
      const status = o.counts ? Object.entries(o.counts).map(([k, n]) => `${n}×${k}`).join(' ') : String(o.status);
      const ch = compare ? changeFromBaseline(c) : undefined;
      const vs = compare ? ` ${ch ? `${ch.change}${ch.change === 'same' ? '' : ` (default: ${cell(ch.baseline)})`}` : '-'} |` : '';
      out.push(`| ${mark} | ${cell(c.scenario.id)} | ${status} | ${o.body} | ${cell(o.reasons.join(', ') || '-')} | ${o.durationMs} ms |${vs}`);
    }
    for (const s of run.skipped) out.push(`| ⏭ | ${cell(s.scenario.id)} | | | ${cell(s.why)} | |`);
    out.push('');
    const failed = run.cases.filter((c) => caseState(c) === 'fail');
    if (failed.length) {
      out.push('#### Failures', '');
      for (const c of failed) {
        out.push(`<details><summary><b>${c.scenario.id}</b>: ${cell(c.verdict!.mismatches.map((m) => `${m.field} expected ${m.expected}, observed ${m.observed}`).join('; '))}</summary>`, '');
        out.push('```', ...evidenceLines(c, 10), '```', '', '</details>', '');
      }
    }
  }
  return out.join('\n') + '\n';
}
