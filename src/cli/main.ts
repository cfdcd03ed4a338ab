/**
 * The CLI: its commands, and the single catch that maps errors to exit codes (0 all good,
 * 1 an expectation failed, 2 bad input or something would not start, 70 a bug). Importing it
 * runs nothing; bin.ts reads argv and exits.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { InputError, isBadgatewayError, StartError } from '../errors.js';
import { explainCommand } from './commands/explain.js';
import { faultsCommand } from './commands/faults.js';
import { judgeCommand } from './commands/judge.js';
import { loadCommand } from './commands/load.js';
import { reproduceCommand } from './commands/reproduce.js';
import { mergeReportsCommand } from './commands/merge-reports.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { versionsCommand } from './commands/versions.js';

export const EXIT = { ok: 0, failed: 1, input: 2, security: 3, internal: 70 } as const;

export async function main(args: string[]): Promise<number> {
  const cli = yargs(args)
    .scriptName('badgateway')
    .usage('$0 <command> [options]\n\nMakes reverse proxies fail on purpose and tells you exactly how they failed.')
    .strict()
    .recommendCommands()
    .demandCommand(1, 'Name a command: run, versions, serve, faults, explain, merge-reports, judge, load (see --help).')
    .help()
    .alias('h', 'help')
    .version(ownVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // Throwing stops yargs before any command handler runs. yargs' own errors (YError: a bad
      // option value it could not take) are usage errors, not bugs.
      if (err && err.name === 'YError') throw new InputError('BG_USAGE', `${err.message}\nRun \`badgateway --help\` for the commands and their options.`);
      if (err) throw err;
      throw new InputError('BG_USAGE', `${msg}\nRun \`badgateway --help\` for the commands and their options.`);
    });
  runCommand(cli);
  versionsCommand(cli);
  serveCommand(cli);
  faultsCommand(cli);
  explainCommand(cli);
  mergeReportsCommand(cli);
  judgeCommand(cli);
  loadCommand(cli);
  reproduceCommand(cli);
  try {
    await cli.parseAsync();
  } catch (err) {
    return report(err);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}

/**
 * Our own package.json, found from this file: yargs looks from the script path, which for an
 * installed package is node_modules/.bin/ and so finds the user's package.json instead.
 */
function ownVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function report(err: unknown): number {
  if (isBadgatewayError(err) && err.userError) {
    process.stderr.write(`badgateway: ${err.message}\n`);
    if (err instanceof StartError && err.logTail) process.stderr.write(`\n--- log tail ---\n${err.logTail.trimEnd()}\n`);
    return EXIT.input;
  }
  process.stderr.write(`badgateway: internal error, this is a bug. Please report it with the command you ran.\n${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.internal;
}

