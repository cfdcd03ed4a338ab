import type { Argv } from 'yargs';
import { loadSuite } from '../../api/suite.js';
import { readLogFiles } from '../../harness/gateway-log.js';
import { rejudge } from '../../harness/rejudge.js';
import { readReport } from '../../report/merge.js';
import { exitStatus } from '../../report/model.js';
import { readInputText } from '../../yaml-source.js';
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
      // Read as any input is: a size bound, and one paragraph when it cannot be read.
      const { result } = readReport(file, await readInputText(file));
      const { scenarios } = await loadSuite({ suite: argv.suite, faultsFiles: argv['faults-file'] });
      const logs = argv['gateway-log'] as string[];
      const judged = rejudge(result, new Map(scenarios.map((s) => [s.id, s])), await readLogFiles(logs), logs.join(', '));
      await writeReports(judged, reports, { stdout: process.stdout, stderr: process.stderr, color: useColor(process.stdout) });
      // As `run` and `merge-reports` exit: 1 for a failure, 3 for a security finding.
      process.exitCode = exitStatus(judged);
    },
  );
}
