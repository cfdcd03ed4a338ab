import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { loadSuite } from '../../api/suite.js';
import { readLogFiles } from '../../harness/gateway-log.js';
import { rejudge } from '../../harness/rejudge.js';
import { readReport } from '../../report/merge.js';
import { useColor } from '../../report/terminal.js';
import { checkReportTargets, parseReporters, reporterHelp, writeReports } from '../reporters.js';

export function judgeCommand(y: Argv) {
  return y.command(
    'judge <report>',
    "Judge a finished run's JSON report again with gateway log lines that arrived since (plain or .gz files, or folders of them), rendered by any reporter",
    (a) =>
      a
        .positional('report', { type: 'string', demandOption: true, describe: 'a JSON report written by `badgateway run --reporter json:FILE`' })
        .option('gateway-log', { type: 'string', array: true, demandOption: true, describe: "the gateway's log: files (plain or gzipped) or folders of them (repeatable)" })
        .option('suite', { type: 'string', describe: 'the suite the run used (default: the built-in catalogue)' })
        .option('faults-file', { type: 'string', array: true, describe: "the run's custom faults (repeatable)" })
        .option('reporter', { type: 'string', array: true, default: ['console'], describe: reporterHelp() })
        .example('$0 judge run.json --gateway-log /var/log/nginx/error.log', 'reasons checked now that the log is here')
        .example('$0 judge alb-run.json --gateway-log ./alb-logs/ --reporter junit:alb.xml', "an ALB run judged with the access logs S3 received since"),
    async (argv) => {
      const reports = parseReporters(argv.reporter);
      await checkReportTargets(reports);
      const file = argv.report as string;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new InputError('BG_FILE_UNREADABLE', `judge: ${file} ${code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`}. Name the JSON report the run wrote (badgateway run --reporter json:FILE).`);
      }
      const { result } = readReport(file, text);
      const { scenarios } = await loadSuite({ suite: argv.suite, faultsFiles: argv['faults-file'] });
      const logs = argv['gateway-log'] as string[];
      const judged = rejudge(result, new Map(scenarios.map((s) => [s.id, s])), await readLogFiles(logs), logs.join(', '));
      await writeReports(judged, reports, { stdout: process.stdout, stderr: process.stderr, color: useColor(process.stdout) });
      process.exitCode = judged.failed > 0 ? 1 : 0;
    },
  );
}
