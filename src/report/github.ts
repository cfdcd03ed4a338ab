/**
 * GitHub Actions: each failed case becomes an `::error` workflow command on the scenario's
 * file, which the runner turns into an annotation on the run (and on a pull request's diff
 * when the file is in it). Under GITHUB_ACTIONS=true the CLI prints these by itself and
 * appends the markdown matrix to the job summary ($GITHUB_STEP_SUMMARY).
 */
import { appendFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { SuiteResult } from '../harness/run.js';
import { caseState, crashLines, evidenceLines, gatewayLabel, isDocumented, mismatchText, observedLine, provenanceText, securityLine } from './model.js';
import type { Reporter } from './reporter.js';

/** A command's message: the runner reads %, CR and LF as escapes. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A command's property value: also `:` and `,`, which end the value otherwise. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** A scenario file as GitHub names files: relative to the workspace; absolute when it lies outside. */
export function repoPath(file: string, baseDir: string): string {
  const rel = relative(baseDir, resolve(baseDir, file));
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(baseDir, file) : rel.split('\\').join('/');
}

export function toGithubAnnotations(result: SuiteResult, baseDir: string = process.cwd()): string {
  const lines: string[] = [];
  for (const run of result.runs) {
    for (const c of run.cases) {
      // A security finding is an annotation of its own, titled as one, whatever the verdict.
      if (c.security) {
        const message = [securityLine(c)!, `observed: ${observedLine(c)}`, ...evidenceLines(c, 5).map((l) => `log: ${l}`)].join('\n');
        lines.push(`::error file=${escapeProperty(repoPath(c.scenario.file, baseDir))},title=${escapeProperty(`security finding: ${c.scenario.id} on ${gatewayLabel(run)}`)}::${escapeData(message)}`);
      }
      if (caseState(c) !== 'fail') continue;
      const title = `${c.scenario.id} on ${gatewayLabel(run)}${isDocumented(c) ? ' (documented expectation)' : ''}`;
      const message = [
        ...c.verdict!.mismatches.map(mismatchText),
        `observed: ${observedLine(c)}`,
        ...(provenanceText(c) ? [`expectation: ${provenanceText(c)}`] : []),
        ...crashLines(c, 10),
        ...evidenceLines(c, 5).map((l) => `log: ${l}`),
      ].join('\n');
      lines.push(`::error file=${escapeProperty(repoPath(c.scenario.file, baseDir))},title=${escapeProperty(title)}::${escapeData(message)}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** What GitHub Actions gives a step, or undefined outside it. */
export interface GithubActionsEnv {
  /** The job summary file, when the runner named one. */
  readonly summaryFile: string | undefined;
  /** Where the repository is checked out: annotation paths are relative to it. */
  readonly workspace: string;
}

export function githubActions(env: NodeJS.ProcessEnv = process.env): GithubActionsEnv | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  return { summaryFile: env.GITHUB_STEP_SUMMARY || undefined, workspace: env.GITHUB_WORKSPACE || process.cwd() };
}

/** GitHub refuses a step summary over 1 MiB and shows none of it. */
export const STEP_SUMMARY_MAX_BYTES = 1024 * 1024;

/** Appends markdown to the job summary, cut (with a note) to what GitHub accepts. */
export async function appendStepSummary(file: string, markdown: string): Promise<void> {
  const note = '\n\n_The summary was cut at GitHub\'s 1 MiB limit; write the whole report with `--reporter markdown:FILE` and keep it as an artifact._\n';
  let text = markdown;
  if (Buffer.byteLength(text) > STEP_SUMMARY_MAX_BYTES) {
    const cut = Buffer.from(text).subarray(0, STEP_SUMMARY_MAX_BYTES - Buffer.byteLength(note) - 4).toString('utf8');
    text = cut.slice(0, Math.max(0, cut.lastIndexOf('\n'))) + note;
  }
  await appendFile(file, text.endsWith('\n') ? text : `${text}\n`);
}

const githubReporter: Reporter = {
  id: 'github',
  describe: 'GitHub Actions annotations: an ::error on the scenario file per failed case (printed by itself under GITHUB_ACTIONS=true)',
  extension: '.txt',
  render: (result, opts) => toGithubAnnotations(result, opts.baseDir),
};
export default githubReporter;
