/** Live progress and a final table on the terminal; colour only on a TTY without NO_COLOR. */
import { paint, table } from './terminal.js';
import type { CaseResult, ProgressListener, SuiteResult } from '../harness/run.js';
import { statusLabel } from '../harness/evaluate.js';
import { caseCrash, caseState, changeFromBaseline, crashLines, evidenceLines, externalNote, gatewayLabel, isDocumented, matrix, observedLine, provenanceText, securityCases, securityLine, shardText, sourceLabel, totals } from './model.js';
import { faithfulText } from '../harness/faithful.js';
import type { Reporter } from './reporter.js';

export function consoleProgress(out: NodeJS.WritableStream, color: boolean): ProgressListener {
  const p = paint(color);
  return {
    onGatewayReady(info) {
      const from = sourceLabel(info);
      out.write(`${p('bold', gatewayLabel(info))}: ${info.scenarios} scenarios${from ? p('dim', ` · ${from}`) : ''}\n`);
    },
    onProbed({ gateway, scenario, outcomes, durationMs }) {
      // A sequence's time is its whole length, first request to last answer.
      const shown = outcomes.length === 1 ? `${String(statusLabel(outcomes[0]!))} · ${outcomes[0]!.durationMs} ms` : `${outcomes.length} requests in ${durationMs} ms`;
      out.write(`  ${p('dim', '·')} ${gateway} ${scenario.id}  ${p('dim', shown)}\n`);
    },
    onCase(c) {
      // A security finding is said as it is found, in its own colour, whatever the verdict.
      if (c.security) out.write(`  ${p('magenta', '!')} ${c.gateway} ${c.scenario.id}  ${p('magenta', securityLine(c)!)}\n`);
      // Verdicts need the gateway's log, read once every request is done; failures get their detail here.
      if (caseState(c) !== 'fail') return;
      out.write(`  ${p('red', '✗')} ${c.gateway} ${c.scenario.id}  ${p('dim', observedLine(c))}\n`);
      out.write(failureDetail(c, color).replace(/^/gm, '      ') + '\n');
    },
  };
}

export function failureDetail(c: CaseResult, color: boolean): string {
  const p = paint(color);
  const rows = c.verdict!.mismatches.map((m) => (m.message ? [p('red', m.message)] : [m.field, `expected ${p('green', m.expected)}`, `observed ${p('red', m.observed)}`]));
  const logs = evidenceLines(c);
  const first = c.outcomes[0]!;
  const lines = [table(rows), `received ${first.bytes} bytes, ended by ${first.end}${first.preview ? `: ${first.preview.slice(0, 100)}` : ''}`];
  lines.push(...crashLines(c));
  if (logs.length) lines.push('gateway log:', ...logs.map((l) => `  ${l}`));
  else lines.push('gateway log: no line attributed to this request');
  const source = provenanceText(c);
  if (source) lines.push(`expectation: ${source}`);
  lines.push(`scenario: ${c.scenario.file}`);
  return lines.join('\n');
}

export function consoleSummary(result: SuiteResult, color: boolean): string {
  const p = paint(color);
  const lines: string[] = [''];
  const shard = shardText(result);
  if (shard) lines.push(p('bold', shard), '');
  for (const run of result.runs) {
    const from = sourceLabel(run);
    lines.push(p('bold', gatewayLabel(run)) + (run.userConfig ? ` with ${run.userConfig}` : '') + (from ? p('dim', ` · ${from}`) : ''));
    const ext = externalNote(run);
    if (ext) lines.push(p('dim', `  ${ext}`));
    const rows = run.cases.map((c) => {
      const state = caseState(c);
      const mark = (state === 'pass' ? p('green', 'pass') : state === 'fail' ? p('red', 'FAIL') : p('yellow', 'seen')) + (c.security ? p('magenta', ' !') : '');
      const faithful = c.faithful ? (c.faithful.same === false ? p('yellow', ` · ${faithfulText(c.faithful)}`) : p('dim', ` · ${faithfulText(c.faithful)}`)) : '';
      // A failure said in a sentence (a crash, or none where one was expected) is said here too.
      const said = c.verdict?.mismatches.filter((m) => m.message).map((m) => m.message!) ?? [];
      // A documented expectation is read, not measured: say so on its row (a measured one is the default).
      // A contradicted one names its source in the mismatch already.
      const documented = isDocumented(c) && state !== 'fail' ? p('cyan', ` · ${provenanceText(c)}`) : '';
      const row = [mark, c.scenario.id, observedLine(c) + faithful + documented + (c.unjudged ? p('dim', ` (${c.unjudged})`) : '') + (said.length ? p('red', ` (${said.join('; ')})`) : '')];
      const ch = changeFromBaseline(c);
      if (ch) {
        const label = ch.change === 'hidden' ? p('green', `hidden (default: ${ch.baseline})`) : ch.change === 'exposed' ? p('red', `exposed (default: ${ch.baseline})`) : ch.change === 'changed' ? p('yellow', `changed (default: ${ch.baseline})`) : p('dim', 'as default');
        row.splice(2, 0, label);
      }
      return row;
    });
    if (run.userConfig) {
      const hidden = run.cases.filter((c) => changeFromBaseline(c)?.change === 'hidden').map((c) => c.scenario.id);
      lines.push(`  Your config hides ${hidden.length} fault${hidden.length === 1 ? '' : 's'} that the default ${run.gateway} config shows the client${hidden.length ? `: ${hidden.join(', ')}` : ''}.`);
    }
    lines.push(table(rows).replace(/^/gm, '  '));
    // A crash is a finding whichever its verdict: what the gateway last said as it died.
    for (const c of run.cases.filter((x) => caseCrash(x))) lines.push(`  ${p('red', 'crash')} ${c.scenario.id}`, ...crashLines(c, 12).map((l) => `      ${l}`));
    // A security finding is its own section: a passing expectation can be an unsafe gateway.
    for (const c of run.cases.filter((x) => x.security)) lines.push(`  ${p('magenta', 'SECURITY')} ${c.scenario.id}: ${p('magenta', c.security!.message)}`, ...(c.security!.directive ? [`      to refuse it: ${c.security!.directive}`] : []));
    for (const s of run.skipped) lines.push(`  ${p('dim', 'skip')} ${s.scenario.id}  ${p('dim', s.why)}`);
    lines.push('');
  }
  if (result.runs.length > 1) lines.push(consoleMatrix(result, color), '');
  const color_ = result.failed ? 'red' : securityCases(result).length ? 'magenta' : 'green';
  lines.push(p(color_, `${totals(result)} in ${(result.durationMs / 1000).toFixed(1)} s`));
  return lines.join('\n') + '\n';
}

/** Scenarios down, gateways across: with several gateways, where they differ at a glance. */
export function consoleMatrix(result: SuiteResult, color: boolean): string {
  const p = paint(color);
  const head = ['scenario', ...result.runs.map((r) => r.gateway)].map((h) => p('bold', h));
  const rows = matrix(result).map((row) => [
    row.scenario.id,
    ...row.cells.map((cell) => {
      if (!cell.case) return cell.skipped !== undefined ? p('dim', 'skip') : p('dim', '-');
      const state = caseState(cell.case);
      const crash = (caseCrash(cell.case) ? ' crash' : '') + (cell.case.security ? ' !' : '');
      return state === 'pass' ? p('green', `pass${crash}`) : state === 'fail' ? p('red', `FAIL${crash}`) : p('yellow', `seen${crash}`);
    }),
  ]);
  const legend = p('dim', `pass: expectation holds · FAIL: it does not · seen: observed, no expectation for that gateway or version · skip: not run there (why above)${matrix(result).some((r) => r.cells.some((x) => x.case && caseCrash(x.case))) ? ' · crash: the gateway died of it (and was restarted)' : ''}${securityCases(result).length ? ' · !: security finding (below each gateway)' : ''}`);
  return [table([head, ...rows]).replace(/^/gm, '  '), `  ${legend}`].join('\n');
}

const consoleReporter: Reporter = {
  id: 'console',
  describe: 'a table per gateway for the terminal, and a scenario × gateway matrix when several ran',
  extension: '.txt',
  render: (result, opts) => consoleSummary(result, opts.color),
};
export default consoleReporter;
