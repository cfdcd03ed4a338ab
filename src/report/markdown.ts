/** Markdown for a CI job summary: the scenario × gateway matrix, then the failures with their evidence. */
import type { CaseResult, SuiteResult } from '../harness/run.js';
import { caseDurationMs, caseState, changeFromBaseline, crashedCases, crashLines, evidenceLines, externalNote, gatewayLabel, isDocumented, matrix, mismatchText, provenanceText, securityCases, securityLine, shardText, sourceLabel, totals } from './model.js';
import { faithfulText } from '../harness/faithful.js';
import { crashHow } from '../harness/crash.js';
import type { Reporter } from './reporter.js';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function cell(c: CaseResult | undefined, skippedWhy: string | undefined): string {
  if (!c) return skippedWhy ? esc(`⏭ skipped: ${skippedWhy}`) : 'not run';
  const s = caseState(c);
  const mark = s === 'pass' ? '✅' : s === 'fail' ? '❌' : '👁';
  const o = c.observed;
  const status = o.counts ? Object.entries(o.counts).map(([k, n]) => `${n}×${k}`).join(' ') : String(o.status);
  const parts = [`${mark} ${status}`];
  if (o.crash) parts.unshift(`💥 gateway crashed (${crashHow(o.crash)})`);
  if (c.security) parts.unshift('🔓 security finding');
  if (o.body === 'truncated') parts.push('truncated');
  parts.push(o.reasons.join(', ') || '-');
  parts.push(`${caseDurationMs(c)} ms`);
  const ch = changeFromBaseline(c);
  if (ch && ch.change !== 'same') parts.push(`${ch.change} (default: ${ch.baseline})`);
  if (c.faithful) parts.push(faithfulText(c.faithful));
  // Documented expectations are read, not measured: the cell says so (the source is listed below the table); unmarked verdicts are measured.
  if (isDocumented(c)) parts.push('📄 documented');
  return esc(parts.join(' · '));
}

export function toMarkdown(result: SuiteResult): string {
  const out: string[] = [`## badgateway: ${totals(result)}`, ''];
  const shard = shardText(result);
  if (shard) out.push(`${esc(shard[0]!.toUpperCase() + shard.slice(1))}.`, '');
  out.push(`| scenario | ${result.runs.map((r) => esc(gatewayLabel(r) + (r.userConfig ? ` with ${r.userConfig}` : ''))).join(' | ')} |`);
  out.push(`|---|${result.runs.map(() => '---').join('|')}|`);
  for (const row of matrix(result)) out.push(`| ${esc(row.scenario.id)} | ${row.cells.map((x) => cell(x.case, x.skipped)).join(' | ')} |`);
  out.push('', `✅ expectation holds · ❌ expectation failed · 👁 observed, no expectation for this gateway or version · ⏭ skipped, with the reason${result.runs.some((r) => r.cases.some(isDocumented)) ? ' · 📄 judged against an expectation read in the gateway\'s documentation, not measured (unmarked verdicts are measured)' : ''}${crashedCases(result).length ? ' · 💥 the gateway died of it (and was restarted)' : ''}${securityCases(result).length ? ' · 🔓 security finding: the upstream\'s response got through where a safe gateway refuses it' : ''}`, '');
  const documented = result.runs.flatMap((r) => r.cases.filter(isDocumented).map((c) => `${c.scenario.id} on ${c.gateway}: ${provenanceText(c)}`));
  if (documented.length) out.push('📄 Documented expectations (read in the gateway\'s documentation, not measured):', '', ...documented.map((d) => `- ${esc(d)}`), '');
  const sources = result.runs.filter((r) => r.source).map((r) => `${gatewayLabel(r)} ${sourceLabel(r)}`);
  if (sources.length) out.push(`Ran ${esc(sources.join('; '))}.`, '');
  for (const run of result.runs) {
    const ext = externalNote(run);
    if (ext) out.push(`${esc(gatewayLabel(run))}: ${esc(ext)}`, '');
    if (run.skipped.length) {
      out.push(`Skipped on ${esc(gatewayLabel(run))}: ${run.skipped.map((s) => `${s.scenario.id} (${s.why})`).join('; ')}`, '');
    }
  }
  // Security findings first: a run whose expectations all hold can still be unsafe.
  const insecure = securityCases(result);
  if (insecure.length) {
    out.push('### Security findings', '');
    for (const c of insecure) out.push(`- 🔓 **${c.scenario.id}** on ${esc(c.gateway)} (${c.scenario.file}): ${esc(securityLine(c)!.replace(/^SECURITY: /, ''))}`);
    out.push('');
  }
  const failed = result.runs.flatMap((r) => r.cases.filter((c) => caseState(c) === 'fail'));
  if (failed.length) {
    out.push('### Failures', '');
    for (const c of failed) {
      out.push(`<details><summary><b>${c.scenario.id}</b> on ${c.gateway} (${c.scenario.file}): ${esc(c.verdict!.mismatches.map(mismatchText).join('; '))}</summary>`, '');
      out.push(...(provenanceText(c) ? [`Expectation ${esc(provenanceText(c)!)}.`, ''] : []), '```', ...crashLines(c), ...evidenceLines(c, 10), '```', '', '</details>', '');
    }
  }
  // Crashes that were expected pass, and are still worth reading.
  const expectedCrashes = crashedCases(result).filter((c) => caseState(c) !== 'fail');
  if (expectedCrashes.length) {
    out.push('### Gateway crashes', '');
    for (const c of expectedCrashes) {
      out.push(`<details><summary><b>${c.scenario.id}</b> on ${c.gateway} (${c.scenario.file}): ${esc(caseState(c) === 'pass' ? 'crashed, as expected' : 'crashed (not judged)')}</summary>`, '');
      out.push('```', ...crashLines(c), '```', '', '</details>', '');
    }
  }
  return out.join('\n') + '\n';
}

const markdownReporter: Reporter = {
  id: 'markdown',
  describe: 'the scenario × gateway matrix and each failure\'s evidence, for a CI job summary or a pull request',
  extension: '.md',
  render: (result) => toMarkdown(result),
};
export default markdownReporter;
