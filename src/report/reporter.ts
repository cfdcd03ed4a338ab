/** What a reporter is: a pure function from a suite's result to text, with a name the CLI offers. */
import type { SuiteResult } from '../harness/run.js';

export interface RenderOptions {
  /** ANSI colour: only for a terminal, never for a file. */
  readonly color: boolean;
  /** Scenario files are named relative to this directory (default: the working directory). */
  readonly baseDir?: string;
}

export interface Reporter {
  /** Its `--reporter` name and its file name in src/report/. */
  readonly id: string;
  /** One line for `--help`. */
  readonly describe: string;
  /** The usual file extension, with its dot, for a report written to a file. */
  readonly extension: string;
  render(result: SuiteResult, opts: RenderOptions): string;
}

/** True for a value shaped like a Reporter: the registry's contract test finds unlisted ones with it. */
export function isReporter(x: unknown): x is Reporter {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.id === 'string' && typeof r.describe === 'string' && typeof r.render === 'function';
}
