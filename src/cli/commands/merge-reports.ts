import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { mergeReports, readReport, type ReadReport } from '../../report/merge.js';
import { useColor } from '../../report/terminal.js';
import { exitStatus } from '../../report/model.js';
import { checkReportTargets, parseReporters, reporterHelp, writeReports } from '../reporters.js';

async function readInput(file: string): Promise<ReadReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? (err as Error).message})`;
    throw new InputError('BG_FILE_UNREADABLE', `merge-reports: ${file} ${why}. Name the JSON report each shard wrote (badgateway run --shard k/n --reporter json:FILE).`);
  }
  return readReport(file, text);
}

export function mergeReportsCommand(y: Argv) {
  return y.command(
    'merge-reports <reports..>',
    'Merge the JSON reports of a sharded run (run --shard k/n --reporter json:FILE) into one result, rendered by any reporter',
    (a) =>
      a
        .positional('reports', { type: 'string', array: true, demandOption: true, describe: 'JSON reports written by `badgateway run --reporter json:FILE`, one per shard' })
        .option('reporter', { type: 'string', array: true, default: ['console'], describe: reporterHelp() })
        .option('allow-partial', { type: 'boolean', default: false, describe: 'render what is there when shards are missing (a warning names them) instead of refusing with exit 2' })
        .example('$0 merge-reports shard-*.json --reporter junit:badgateway.xml --reporter html:badgateway.html', 'one JUnit report and one matrix from every shard')
        .example('$0 merge-reports run.json --reporter markdown:summary.md', 'render a saved report again, with another reporter'),
    async (argv) => {
      const reports = parseReporters(argv.reporter);
      // Before reading anything: a report that cannot be written fails first, as with `run`.
      await checkReportTargets(reports);
      const inputs: ReadReport[] = [];
      for (const file of argv.reports as string[]) inputs.push(await readInput(file));
      const { result, missing } = mergeReports(inputs, { allowPartial: argv['allow-partial'] });
      if (missing.length > 0) {
        const n = inputs[0]!.result.shard.count;
        process.stderr.write(`badgateway: warning: shard${missing.length === 1 ? '' : 's'} ${missing.map((k) => `${k}/${n}`).join(', ')} missing (--allow-partial): this report holds ${result.shard!.cells.length} of ${result.shard!.total} cells.\n`);
      }
      await writeReports(result, reports, { stdout: process.stdout, stderr: process.stderr, color: useColor(process.stdout) });
      // The same rule as `run`: a failed expectation in any shard fails the merged result; else a security finding is 3.
      process.exitCode = exitStatus(result);
    },
  );
}
