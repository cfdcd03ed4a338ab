/**
 * The versions report as text: scenarios down, versions across, each cell what that version
 * did and its verdict against that version's own expectation. Console, markdown, HTML, JSON.
 * Not `Reporter`s (they render a VersionsReport, not a SuiteResult), so not in index.ts.
 */
import { caseState, observedLine } from './model.js';
import { htmlEscape } from './html.js';
import { paint, table } from './terminal.js';
import { headline, hiddenFailures, shownRows, verdictText, type VersionCell, type VersionsReport } from './versions.js';

export interface VersionsRenderOptions {
  /** Every scenario, not only the ones that differ. */
  readonly all: boolean;
  readonly color: boolean;
}

function columnTotals(c: VersionsReport['columns'][number]): string {
  const parts = [`${c.passed} passed`, `${c.failed} failed`];
  if (c.observed) parts.push(`${c.observed} observed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  return `${parts.join(', ')} in ${(c.durationMs / 1000).toFixed(1)} s`;
}

const MARK = { pass: '✅', fail: '❌', observed: '👁' } as const;

function plainCell(cell: VersionCell): { observed: string; verdict: string } {
  if (!cell.case) return { observed: cell.skipped !== undefined ? `skipped: ${cell.skipped}` : 'not run', verdict: '' };
  return { observed: observedLine(cell.case), verdict: verdictText(cell.case) };
}

export function versionsConsole(report: VersionsReport, opts: VersionsRenderOptions): string {
  const p = paint(opts.color);
  const lines = [''];
  for (const c of report.columns) lines.push(`${p('bold', c.label)}: ${columnTotals(c)}`);
  lines.push('');
  const rows = shownRows(report, opts.all);
  if (rows.length > 0) {
    const head = ['scenario', ...report.columns.map((c) => c.short)].map((h) => p('bold', h));
    const body = rows.map((r) => [
      r.differs.length ? r.scenario.id : p('dim', r.scenario.id),
      ...r.cells.map((cell) => {
        const { observed, verdict } = plainCell(cell);
        if (!cell.case) return p('dim', observed);
        const s = caseState(cell.case);
        const mark = s === 'pass' ? p('green', 'pass') : s === 'fail' ? p('red', 'FAIL') : p('yellow', 'seen');
        return `${mark} ${observed}`;
      }),
    ]);
    lines.push(table([head, ...body]).replace(/^/gm, '  '));
    // The verdicts' detail would make every column too wide: it follows the table, per case.
    const notes = rows.flatMap((r) => r.cells.map((cell, i) => ({ r, cell, col: report.columns[i]! })).filter(({ cell }) => cell.case && (caseState(cell.case) !== 'pass' || cell.case.security)));
    if (notes.length) {
      lines.push('');
      for (const { r, cell, col } of notes) lines.push(`  ${r.scenario.id} on ${col.short}: ${p(caseState(cell.case!) === 'fail' ? 'red' : cell.case!.security ? 'magenta' : 'yellow', verdictText(cell.case!))}`);
    }
    if (!opts.all) lines.push('', p('dim', `  differs in: ${rows.map((r) => `${r.scenario.id} (${r.differs.join(', ')})`).join('; ')}`));
    lines.push(p('dim', '  pass: that version\'s expectation holds · FAIL: it does not · seen: observed, not measured on that version'));
    lines.push('');
  }
  const hidden = hiddenFailures(report, opts.all);
  if (hidden.length) lines.push(p('red', `Failed where the versions answered alike (not shown; --all shows them): ${hidden.map((f) => `${f.scenario} on ${f.columns.join(', ')}`).join('; ')}`), '');
  const failed = report.columns.some((c) => c.failed > 0);
  lines.push(p(failed ? 'red' : 'green', headline(report)));
  return lines.join('\n') + '\n';
}

const mdEsc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function versionsMarkdown(report: VersionsReport, opts: Pick<VersionsRenderOptions, 'all'>): string {
  const out = [`## badgateway versions: ${report.gateway}`, '', headline(report), ''];
  const rows = shownRows(report, opts.all);
  if (rows.length > 0) {
    out.push(`| scenario | differs in | ${report.columns.map((c) => mdEsc(c.label)).join(' | ')} |`);
    out.push(`|---|---|${report.columns.map(() => '---').join('|')}|`);
    for (const r of rows) {
      const cells = r.cells.map((cell) => {
        const { observed, verdict } = plainCell(cell);
        if (!cell.case) return mdEsc(`⏭ ${observed}`);
        return mdEsc(`${MARK[caseState(cell.case)]} ${observed}`) + (verdict === 'holds' ? '' : `<br>${mdEsc(verdict)}`);
      });
      out.push(`| ${mdEsc(r.scenario.id)} | ${r.differs.join(', ') || 'same'} | ${cells.join(' | ')} |`);
    }
    out.push('', '✅ that version\'s expectation holds · ❌ it does not · 👁 observed, not measured on that version · ⏭ skipped, with the reason', '');
  }
  const hidden = hiddenFailures(report, opts.all);
  if (hidden.length) out.push(`Failed where the versions answered alike (not shown): ${mdEsc(hidden.map((f) => `${f.scenario} on ${f.columns.join(', ')}`).join('; '))}.`, '');
  out.push(`Ran ${report.columns.map((c) => `${mdEsc(c.label)}: ${columnTotals(c)}`).join('; ')}.`, '');
  return out.join('\n');
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 4px; } .summary { color: #57606a; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: 6px 8px; vertical-align: top; text-align: left; }
thead th { background: #f6f8fa; } thead th small, th.scenario small { display: block; font-weight: 400; color: #57606a; }
td.pass { background: #dafbe1; } td.fail { background: #ffebe9; } td.observed { background: #f6f8fa; } td.none { color: #8c959f; }
.status { font-weight: 700; } .verdict { font-size: 12px; color: #57606a; } td.fail .verdict { color: #cf222e; }
tr.same th.scenario { font-weight: 400; color: #57606a; }
`;

function htmlCell(cell: VersionCell): string {
  const { observed, verdict } = plainCell(cell);
  if (!cell.case) return `<td class="none" data-state="${cell.skipped !== undefined ? 'skipped' : 'not-run'}">${htmlEscape(observed)}</td>`;
  const s = caseState(cell.case);
  return `<td class="${s}" data-state="${s}"><div class="status">${htmlEscape(observed)}</div><div class="verdict">${htmlEscape(verdict)}</div></td>`;
}

export function versionsHtml(report: VersionsReport, opts: Pick<VersionsRenderOptions, 'all'>): string {
  const title = `badgateway versions: ${report.gateway}`;
  const rows = shownRows(report, opts.all);
  const head = report.columns.map((c) => `<th>${htmlEscape(`${c.gateway} ${c.version ?? '(version unknown)'}`)}<small>${htmlEscape(c.label)}</small><small>${htmlEscape(columnTotals(c))}</small></th>`).join('');
  const body = rows
    .map((r) => `<tr class="${r.differs.length ? 'differs' : 'same'}" data-scenario="${htmlEscape(r.scenario.id)}"><th class="scenario">${htmlEscape(r.scenario.id)}<small>${htmlEscape(r.differs.length ? `differs in ${r.differs.join(', ')}` : 'same in every version')}</small></th>${r.cells.map(htmlCell).join('')}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>${htmlEscape(title)}</h1>
<p class="summary">${htmlEscape(headline(report))}</p>
${hiddenFailures(report, opts.all).map((f) => `<p class="hidden-failure">Failed where the versions answered alike (not shown): ${htmlEscape(`${f.scenario} on ${f.columns.join(', ')}`)}</p>`).join('\n')}
${rows.length ? `<table>\n<thead><tr><th>scenario</th>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>` : ''}
</body></html>
`;
}

export function versionsJson(report: VersionsReport, opts: Pick<VersionsRenderOptions, 'all'>): string {
  return JSON.stringify(
    {
      gateway: report.gateway,
      headline: headline(report),
      columns: report.columns,
      differing: report.rows.filter((r) => r.differs.length > 0).map((r) => r.scenario.id),
      failed: report.rows.flatMap((r) => r.cells.flatMap((c, i) => (c.case?.verdict?.pass === false ? [{ scenario: r.scenario.id, column: report.columns[i]!.label }] : []))),
      rows: shownRows(report, opts.all).map((r) => ({
        scenario: r.scenario.id,
        differs: r.differs,
        cells: r.cells.map((cell) =>
          cell.case
            ? {
                state: caseState(cell.case),
                observed: cell.case.observed,
                expected: cell.case.expectation,
                mismatches: cell.case.verdict?.mismatches ?? [],
                ...(cell.case.unjudged ? { unjudged: cell.case.unjudged } : {}),
                log: cell.case.logs.filter((l) => l.reason).map((l) => ({ reason: l.reason, line: l.raw })),
              }
            : cell.skipped !== undefined
              ? { state: 'skipped', why: cell.skipped }
              : { state: 'not-run' },
        ),
      })),
    },
    null,
    2,
  );
}

/** The `--reporter` choices of `badgateway versions`. */
export const VERSIONS_RENDERERS: Readonly<Record<'console' | 'markdown' | 'html' | 'json', { readonly extension: string; readonly describe: string; render(r: VersionsReport, o: VersionsRenderOptions): string }>> = {
  console: { extension: '.txt', describe: 'a table for the terminal, versions across', render: versionsConsole },
  markdown: { extension: '.md', describe: 'the matrix with versions as columns, for a job summary or a pull request', render: versionsMarkdown },
  html: { extension: '.html', describe: 'a self-contained page with versions as columns', render: versionsHtml },
  json: { extension: '.json', describe: 'every shown row with what each version observed and expected', render: versionsJson },
};
