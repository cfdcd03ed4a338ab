/**
 * `--reporter NAME[:PATH]`: which reports a run writes and where. Every target is checked
 * before any work starts (a report that cannot be written must not cost a whole run first),
 * and after the run each report is written and its path said.
 */
import { access, constants, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BadgatewayError, closest, InputError } from '../errors.js';
import type { SuiteResult } from '../harness/run.js';
import { appendStepSummary, githubActions, type GithubActionsEnv } from '../report/github.js';
import { REPORTERS, reporterById, type Reporter } from '../report/index.js';
import { toMarkdown } from '../report/markdown.js';

export interface ReportTarget {
  readonly reporter: Reporter;
  /** Undefined: stdout. */
  readonly path?: string;
  /** As the user wrote it, for messages. */
  readonly spec: string;
}

export interface ReportPlan {
  readonly targets: readonly ReportTarget[];
  /**
   * The console summary (and the live progress) goes to stdout: asked for, or added because
   * no reporter prints there (file reporters keep the terminal informed).
   */
  readonly consoleOnStdout: boolean;
  /** Where "wrote ... to PATH" lines and GitHub annotations go: stdout unless a machine-read report is printed there. */
  readonly notices: 'stdout' | 'stderr';
  readonly github: GithubActionsEnv | undefined;
}

export function reporterHelp(): string {
  return `${REPORTERS.map((r) => r.id).join(', ')}; add :PATH to write a file (e.g. junit:report.xml, html:matrix.html). Without a reporter on stdout the console summary prints there too. ${REPORTERS.map((r) => `${r.id}: ${r.describe}.`).join(' ')}`;
}

/** Parses the flag values (repeatable, or comma-separated); throws a one-paragraph InputError on a bad one. */
export function parseReporters(specs: readonly string[], env: NodeJS.ProcessEnv = process.env): ReportPlan {
  const targets = specs
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((spec): ReportTarget => {
      const i = spec.indexOf(':');
      const name = (i === -1 ? spec : spec.slice(0, i)).trim();
      const reporter = reporterById(name);
      if (!reporter) {
        // "xml" or "md" is more likely the format's reporter than the closest spelling.
        const near = REPORTERS.find((r) => r.extension === `.${name.toLowerCase()}`)?.id ?? closest(name, REPORTERS.map((r) => r.id), 1)[0];
        throw new InputError(
          'BG_BAD_FLAG',
          `--reporter "${spec}": unknown reporter "${name}"${near ? ` (closest: ${near})` : ''}; use ${REPORTERS.map((r) => r.id).join(', ')}, optionally with :path (e.g. junit:report.xml).`,
        );
      }
      if (i === -1) return { reporter, spec };
      const path = spec.slice(i + 1).trim();
      if (path === '') {
        throw new InputError(
          'BG_BAD_FLAG',
          `--reporter "${spec}" has an empty path after the colon. Name the file (e.g. ${name}:badgateway${reporter.extension}), or leave out the colon to print the ${name} report on stdout.`,
        );
      }
      return { reporter, path, spec };
    });
  const onStdout = targets.filter((t) => t.path === undefined);
  if (onStdout.length > 1) {
    throw new InputError(
      'BG_BAD_FLAG',
      `--reporter ${onStdout.map((t) => t.spec).join(' and ')} would ${onStdout.length === 2 ? 'both' : 'all'} print on stdout, one report run into the next. Give all but one a file: e.g. --reporter ${onStdout[1]!.reporter.id}:badgateway${onStdout[1]!.reporter.extension}.`,
    );
  }
  const byPath = new Map<string, ReportTarget>();
  for (const t of targets) {
    if (t.path === undefined) continue;
    const abs = resolve(t.path);
    const before = byPath.get(abs);
    if (before) throw new InputError('BG_BAD_FLAG', `--reporter ${before.spec} and --reporter ${t.spec} both write ${abs}; the second would overwrite the first. Give each report its own file.`);
    byPath.set(abs, t);
  }
  const stdoutReporter = onStdout[0]?.reporter.id;
  return {
    targets,
    consoleOnStdout: stdoutReporter === undefined || stdoutReporter === 'console',
    notices: stdoutReporter === undefined || stdoutReporter === 'console' ? 'stdout' : 'stderr',
    github: githubActions(env),
  };
}

/**
 * Each file target can be written: its folder exists and is writable, and it is not a
 * folder itself. Checked before the gateway starts; a write can still fail later (a full
 * disk), which writeReports says without a stack.
 */
export async function checkReportTargets(plan: { readonly targets: ReadonlyArray<Pick<ReportTarget, 'path' | 'spec'> & { readonly reporter: Pick<Reporter, 'id' | 'extension'> }> }): Promise<void> {
  for (const t of plan.targets) {
    if (t.path === undefined) continue;
    const abs = resolve(t.path);
    const example = `${t.reporter.id}:${join(t.path, `badgateway${t.reporter.extension}`)}`;
    const self = await stat(abs).catch(() => undefined);
    if (self?.isDirectory()) {
      throw new InputError('BG_REPORT_PATH', `--reporter ${t.spec}: ${abs} is a folder, and the ${t.reporter.id} report is one file. Name a file in it, e.g. --reporter ${example}.`);
    }
    if (self && !(await writable(abs))) {
      throw new InputError('BG_REPORT_PATH', `--reporter ${t.spec}: ${abs} exists and this user may not write it. Name another file, or change its permissions.`);
    }
    if (self) continue;
    const dir = dirname(abs);
    const parent = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
    if (parent instanceof Error) {
      const why = parent.code === 'ENOENT' ? 'does not exist' : parent.code === 'ENOTDIR' ? 'is not a folder (a part of the path is a file)' : `cannot be read (${parent.code ?? parent.message})`;
      throw new InputError('BG_REPORT_PATH', `--reporter ${t.spec}: the folder ${dir} ${why}, so the ${t.reporter.id} report could not be written there. Create it first (mkdir -p ${dir}), or name a file in a folder that exists.`);
    }
    if (!parent.isDirectory()) {
      throw new InputError('BG_REPORT_PATH', `--reporter ${t.spec}: ${dir} is a file, not a folder, so ${abs} cannot be created. Name a file in a folder.`);
    }
    if (!(await writable(dir))) {
      throw new InputError('BG_REPORT_PATH', `--reporter ${t.spec}: this user may not create files in ${dir}. Name a file in a folder you can write, e.g. --reporter ${t.reporter.id}:./badgateway${t.reporter.extension}.`);
    }
  }
}

async function writable(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ReportStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Colour for what goes to stdout (the terminal). */
  readonly color: boolean;
}

/**
 * Renders and writes every report; then, under GitHub Actions, annotations and the job
 * summary. A report that cannot be written does not stop the others; the first such
 * failure is thrown at the end as a user-facing error.
 */
export async function writeReports(result: SuiteResult, plan: ReportPlan, io: ReportStreams): Promise<void> {
  const notices = plan.notices === 'stdout' ? io.stdout : io.stderr;
  const baseDir = plan.github?.workspace ?? process.cwd();
  const failures: string[] = [];
  const targets = [...plan.targets];
  if (plan.consoleOnStdout && !targets.some((t) => t.path === undefined)) targets.unshift({ reporter: reporterById('console')!, spec: 'console' });
  const written: string[] = [];
  for (const t of targets) {
    const text = t.reporter.render(result, { color: t.path === undefined && io.color, baseDir });
    if (t.path === undefined) {
      io.stdout.write(text);
      continue;
    }
    try {
      await writeFile(t.path, text);
      written.push(`wrote ${t.reporter.id} report to ${t.path}`);
    } catch (err) {
      failures.push(`the ${t.reporter.id} report could not be written to ${t.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (written.length) notices.write(written.join('\n') + '\n');
  if (plan.github) {
    // Asked for as a reporter, the annotations are already out.
    if (!plan.targets.some((t) => t.reporter.id === 'github' && t.path === undefined)) notices.write(reporterById('github')!.render(result, { color: false, baseDir }));
    if (plan.github.summaryFile) {
      try {
        await appendStepSummary(plan.github.summaryFile, toMarkdown(result));
      } catch (err) {
        io.stderr.write(`badgateway: could not append to the job summary $GITHUB_STEP_SUMMARY (${plan.github.summaryFile}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      }
    }
  }
  if (failures.length) {
    throw new BadgatewayError('BG_REPORT_WRITE', `${failures.join('; ')}. The run itself finished: ${result.passed} passed, ${result.failed} failed. Free space or fix the permissions and run again.`);
  }
}
