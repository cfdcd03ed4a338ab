/**
 * A self-contained HTML matrix: one row per scenario, one column per gateway;
 * each cell says what the client saw (status, body, the gateway's reason, time)
 * and whether that held the expectation. No scripts, no external assets.
 */
import type { CaseResult, SuiteResult } from '../harness/run.js';
import { caseState, changeFromBaseline, crashLines, durationText, evidenceLines, gatewayLabel, matrix, provenanceText, securityCases, sourceLabel, totals } from './model.js';
import { faithfulText } from '../harness/faithful.js';
import { crashHow } from '../harness/crash.js';
import type { Reporter } from './reporter.js';

export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export const STYLE = `
:root { --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9; --seen: #57606a; --seen-bg: #f6f8fa; --line: #d0d7de; --security: #8250df; --security-bg: #fbefff; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 4px; }
.summary { margin: 0 0 16px; color: #57606a; }
.summary b.fail { color: var(--fail); } .summary b.pass { color: var(--pass); }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 6px 8px; vertical-align: top; text-align: left; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
th.scenario { font-weight: 600; white-space: nowrap; }
th.scenario small { display: block; font-weight: 400; color: #57606a; }
th.scenario .why { white-space: normal; min-width: 220px; max-width: 300px; margin: 4px 0 0; font-weight: 400; font-size: 12px; color: #57606a; }
thead th small { display: block; font-weight: 400; color: #57606a; }
td.cell { min-width: 190px; }
td.pass { background: var(--pass-bg); } td.fail { background: var(--fail-bg); } td.observed { background: var(--seen-bg); } td.none { background: #fff; color: #8c959f; }
.status { font-size: 18px; font-weight: 700; }
td.pass .status { color: var(--pass); } td.fail .status { color: var(--fail); } td.observed .status { color: var(--seen); }
.meta { color: #57606a; font-size: 12px; }
.reason { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.mismatch { color: var(--fail); font-size: 12px; margin-top: 4px; }
details { margin-top: 4px; font-size: 12px; } details pre { white-space: pre-wrap; word-break: break-all; max-width: 420px; margin: 4px 0 0; }
.crash { font-weight: 700; color: var(--fail); }
.provenance[data-provenance="documented"] { color: #0969da; }
.security { font-weight: 700; color: var(--security); } td.insecure { box-shadow: inset 4px 0 0 var(--security); }
section.security { margin: 16px 0; padding: 8px 12px; background: var(--security-bg); border-left: 4px solid var(--security); } section.security h2 { font-size: 16px; margin: 0 0 4px; color: var(--security); }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border: 1px solid var(--line); }
`;

function cell(c: CaseResult | undefined, skippedWhy: string | undefined): string {
  if (!c) {
    if (skippedWhy) return `<td class="cell none" data-state="skipped" title="${htmlEscape(skippedWhy)}">skipped<div class="meta">${htmlEscape(skippedWhy)}</div></td>`;
    return '<td class="cell none">not run</td>';
  }
  const state = caseState(c);
  const o = c.observed;
  const status = o.counts ? Object.entries(o.counts).map(([k, n]) => `${n}×${k}`).join(' ') : String(o.status);
  const parts = [
    ...(c.security ? [`<div class="security">security finding<div class="meta">${htmlEscape(c.security.message)}</div></div>`] : []),
    ...(o.crash ? [`<div class="crash">gateway crashed<div class="meta">${htmlEscape(crashHow(o.crash))}</div></div>`] : []),
    `<div class="status">${htmlEscape(status)}</div>`,
    `<div class="meta">${htmlEscape([o.body !== 'none' ? `body ${o.body}` : '', durationText(c)].filter(Boolean).join(' · '))}</div>`,
    `<div class="reason">${htmlEscape(o.reasons.join(', ') || 'no log reason')}</div>`,
  ];
  if (state === 'fail') {
    for (const m of c.verdict!.mismatches) parts.push(`<div class="mismatch">${htmlEscape(m.message ?? `${m.field}: expected ${m.expected}, got ${m.observed}`)}</div>`);
  }
  // What the tooltip says is on the cell too: why there is no verdict, or what the user's config changed.
  const ch = changeFromBaseline(c);
  if (ch) parts.push(`<div class="meta change">${htmlEscape(ch.change === 'same' ? `as with the default config (${ch.baseline})` : `${ch.change} (default config: ${ch.baseline})`)}</div>`);
  else if (state === 'observed') parts.push(`<div class="meta unjudged">${htmlEscape(c.unjudged ?? 'observed, no expectation for this gateway or version')}</div>`);
  if (c.provenance) parts.push(`<div class="meta provenance" data-provenance="${c.provenance.kind}">${htmlEscape(provenanceText(c)!)}</div>`);
  if (c.faithful) parts.push(`<div class="meta faithful" data-faithful="${c.faithful.same === undefined ? 'unknown' : c.faithful.same ? 'yes' : 'no'}">${htmlEscape(faithfulText(c.faithful))}</div>`);
  if (o.crash) parts.push(`<details class="crash-log"><summary>last log lines</summary><pre>${htmlEscape(crashLines(c).join('\n'))}</pre></details>`);
  const logs = evidenceLines(c, 5);
  if (logs.length) parts.push(`<details><summary>log</summary><pre>${htmlEscape(logs.join('\n'))}</pre></details>`);
  const title = state === 'pass' ? 'expectation holds' : state === 'fail' ? 'expectation failed' : (c.unjudged ?? 'observed (no expectation for this gateway/version)');
  return `<td class="cell ${state}${c.security ? ' insecure' : ''}" title="${htmlEscape(title)}" data-state="${state}">${parts.join('')}</td>`;
}

export function toHtml(result: SuiteResult, title = 'badgateway: gateways under faults'): string {
  const head = result.runs
    .map((r) => {
      const from = sourceLabel(r);
      return `<th>${htmlEscape(gatewayLabel(r))}${from ? `<small class="source">${htmlEscape(from)}</small>` : ''}${r.userConfig ? `<small>${htmlEscape(r.userConfig)}</small>` : ''}</th>`;
    })
    .join('');
  const grid = matrix(result);
  // The description is why a gateway answers as it does (a 504, a truncated 200, a 503):
  // on the page, not in a tooltip, which neither a print nor a touch screen shows.
  const rows = grid
    .map(({ scenario, cells }) => {
      const fault = scenario.fault === scenario.id ? '' : `<small>fault ${htmlEscape(scenario.fault)}</small>`;
      const why = scenario.description ? `<p class="why">${htmlEscape(scenario.description)}</p>` : '';
      return `<tr><th class="scenario">${htmlEscape(scenario.id)}${fault}${why}</th>${cells.map((x) => cell(x.case, x.skipped)).join('')}</tr>`;
    })
    .join('\n');
  const summaryClass = result.failed > 0 ? 'fail' : 'pass';
  const insecure = securityCases(result);
  const security = insecure.length
    ? `<section class="security"><h2>Security findings</h2><ul>${insecure.map((c) => `<li><b>${htmlEscape(c.scenario.id)}</b> on ${htmlEscape(c.gateway)}: ${htmlEscape(c.security!.message)}${c.security!.directive ? `<div class="meta">to refuse it: <code>${htmlEscape(c.security!.directive)}</code></div>` : ''}</li>`).join('')}</ul></section>\n`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>${htmlEscape(title)}</h1>
<p class="summary"><b class="${summaryClass}">${htmlEscape(totals(result))}</b> · ${grid.length} scenarios × ${result.runs.length} gateway${result.runs.length === 1 ? '' : 's'} · ${(result.durationMs / 1000).toFixed(1)} s</p>
<p class="legend"><span style="background:var(--pass-bg)">expectation holds</span><span style="background:var(--fail-bg)">expectation failed</span><span style="background:var(--seen-bg)">observed, not judged</span>${insecure.length ? '<span style="background:var(--security-bg);color:var(--security)">security finding</span>' : ''}</p>
${security}<table>
<thead><tr><th>scenario</th>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body></html>
`;
}

const htmlReporter: Reporter = {
  id: 'html',
  describe: 'a self-contained page: the scenario × gateway matrix with each scenario\'s why and the log lines',
  extension: '.html',
  render: (result) => toHtml(result),
};
export default htmlReporter;
