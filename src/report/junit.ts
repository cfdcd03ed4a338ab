/** JUnit XML: one testcase per scenario × gateway; a failure carries the diff and the gateway's log lines. */
import type { SuiteResult } from '../harness/run.js';
import { caseCrash, caseDurationMs, caseState, changeFromBaseline, crashLines, evidenceLines, externalNote, gatewayLabel, mismatchText, observedLine, provenanceText, securityLine } from './model.js';
import type { Reporter } from './reporter.js';

export function xmlEscape(s: string): string {
  // XML 1.0 cannot carry most control characters even escaped; gateways log raw bytes sometimes.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function toJunit(result: SuiteResult): string {
  const suites = result.runs.map((run) => {
    const failures = run.cases.filter((c) => caseState(c) === 'fail').length;
    // A security finding is JUnit's other kind of problem, an error: CI test tabs list it apart from the failures.
    const insecure = (c: (typeof run.cases)[number]) => c.security !== undefined && caseState(c) !== 'fail';
    const errors = run.cases.filter(insecure).length;
    const cases = run.cases.map((c) => {
      const name = xmlEscape(c.scenario.id);
      const time = (caseDurationMs(c) / 1000).toFixed(3);
      const source = provenanceText(c);
      const sec = securityLine(c);
      const out = `<system-out>${xmlEscape([...(sec ? [sec] : []), `observed: ${observedLine(c)}`, ...(source ? [`expectation: ${source}`] : []), ...crashLines(c), ...c.logs.map((l) => l.raw)].join('\n'))}</system-out>`;
      // Test tabs that read testcase properties show where the expectation comes from.
      const props = c.provenance ? `<properties><property name="provenance" value="${xmlEscape(c.provenance.kind)}"/>${c.provenance.kind === 'documented' ? `<property name="documented" value="${xmlEscape(c.provenance.source)}"/>` : ''}</properties>` : '';
      const state = caseState(c);
      let inner = '';
      if (state === 'fail') {
        const diff = c.verdict!.mismatches.map(mismatchText);
        const crash = crashLines(c);
        const body = [...diff, '', ...(crash.length ? [...crash, ''] : []), 'gateway log:', ...evidenceLines(c, 20), '', `scenario: ${c.scenario.file}`].join('\n');
        inner = `<failure message="${xmlEscape(diff.join('; '))}" type="${caseCrash(c) ? 'gateway-crashed' : 'expectation'}">${xmlEscape(body)}</failure>`;
      } else if (insecure(c)) {
        const body = [securityLine(c)!, `observed: ${observedLine(c)}`, 'gateway log:', ...evidenceLines(c, 20), '', `scenario: ${c.scenario.file}`].join('\n');
        inner = `<error message="${xmlEscape(c.security!.message)}" type="security">${xmlEscape(body)}</error>`;
      } else if (state === 'observed') {
        // With a user's config the point is what it changes against the default config: say that, not "no expectation".
        const ch = changeFromBaseline(c);
        const why = ch ? (ch.change === 'same' ? `as with the default config (${ch.baseline})` : `${ch.change} by your config (default config: ${ch.baseline})`) : (c.unjudged ?? `no expectation for ${c.gateway}`);
        inner = `<skipped message="${xmlEscape(`${why}: observed ${observedLine(c)}`)}"/>`;
      }
      return `    <testcase classname="badgateway.${xmlEscape(run.gateway)}" name="${name}" time="${time}">${inner}${props}${out}</testcase>`;
    });
    const skipped = run.skipped.map((s) => `    <testcase classname="badgateway.${xmlEscape(run.gateway)}" name="${xmlEscape(s.scenario.id)}" time="0"><skipped message="${xmlEscape(s.why)}"/></testcase>`);
    const nSkipped = run.skipped.length + run.cases.filter((c) => caseState(c) === 'observed' && !insecure(c)).length;
    const ext = externalNote(run);
    const propList = [...(run.source ? [['source', run.source]] : []), ...(ext ? [['external', ext]] : [])];
    const props = propList.length ? `    <properties>${propList.map(([k, v]) => `<property name="${k}" value="${xmlEscape(v!)}"/>`).join('')}</properties>\n` : '';
    return `  <testsuite name="${xmlEscape(gatewayLabel(run))}" tests="${run.cases.length + run.skipped.length}" failures="${failures}" errors="${errors}" skipped="${nSkipped}" time="${(run.durationMs / 1000).toFixed(3)}">\n${props}${[...cases, ...skipped].join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="badgateway" tests="${result.passed + result.failed + result.unchecked + result.skipped}" failures="${result.failed}" errors="${result.runs.reduce((n, r) => n + r.cases.filter((c) => c.security !== undefined && caseState(c) !== 'fail').length, 0)}" time="${(result.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

const junitReporter: Reporter = {
  id: 'junit',
  describe: 'JUnit XML, one testcase per scenario and gateway, for CI test tabs (GitLab, Jenkins, GitHub test reporters)',
  extension: '.xml',
  render: (result) => toJunit(result),
};
export default junitReporter;
