/**
 * Every reporter, one file each in this folder. A new one is its file (default-exporting a
 * Reporter whose id is the file name) plus its line here; the CLI's `--reporter` choices and
 * help come from this list, and src/report/registry.test.ts fails when a file is left out.
 */
import consoleReporter from './console.js';
import githubReporter from './github.js';
import htmlReporter from './html.js';
import jsonReporter from './json.js';
import junitReporter from './junit.js';
import markdownReporter from './markdown.js';
import type { Reporter } from './reporter.js';

export const REPORTERS: readonly Reporter[] = [consoleReporter, jsonReporter, junitReporter, markdownReporter, htmlReporter, githubReporter];

export function reporterById(id: string): Reporter | undefined {
  return REPORTERS.find((r) => r.id === id);
}

export type { RenderOptions, Reporter } from './reporter.js';
