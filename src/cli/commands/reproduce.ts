/**
 * `badgateway reproduce LOGFILE --gateway G`: a production log's reasons, counted with the
 * gateway's own parser, replayed as a load mix of the scenarios behind them, and the two
 * histograms side by side (src/load/reproduce.ts).
 */
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { gatewayById, GATEWAYS } from '../../gateways/index.js';
import { loadSuite, readUserConfig } from '../../api/suite.js';
import { calibrate, compareReasons, planReproduction, readProductionLog, type Calibration, type ReproduceResult } from '../../load/reproduce.js';
import { reproduceToConsole, reproduceToHtml, reproduceToJson, reproduceToMarkdown } from '../../load/reproduce-report.js';
import { useColor } from '../../report/terminal.js';
import { readInputText } from '../../yaml-source.js';
import { checkReportTargets } from '../reporters.js';
import { driveLoad, parseLoadReporters, runOptions, settingsFrom, writeResultReports, type ResultReporter } from './load.js';
import { abortOnSignals } from './run.js';

const REPRODUCE_REPORTERS: ReadonlyArray<ResultReporter<ReproduceResult>> = [
  { id: 'console', extension: '.txt', render: (r, color) => reproduceToConsole(r, color) },
  { id: 'json', extension: '.json', render: (r) => reproduceToJson(r) },
  { id: 'markdown', extension: '.md', render: (r) => reproduceToMarkdown(r) },
  { id: 'html', extension: '.html', render: (r) => reproduceToHtml(r) },
];

const DEFAULTS = { rate: '200/s', duration: '10s' } as const;
/** A production log may be large; the reasons are counted from the text in memory. */
const MAX_LOG_BYTES = 512 * 1024 * 1024;

export function reproduceCommand(y: Argv) {
  return y.command(
    'reproduce <logfile>',
    "Count a production gateway log's lines by reason, drive the gateway (your --config) with the scenarios behind them in the log's proportions, and set the two histograms side by side",
    (a) =>
      runOptions(a, DEFAULTS)
        .positional('logfile', { type: 'string', demandOption: true, describe: "the gateway's error or access log, as the gateway writes it" })
        .option('gateway', { type: 'string', demandOption: true, describe: `whose log it is, and which gateway to drive: ${GATEWAYS.map((g) => g.id).join(', ')}` })
        .option('log-format', { type: 'string', describe: "whose log it is, when another gateway wrote it than the one to drive (e.g. an ALB access log, reproduced through the nginx behind it); default: --gateway" })
        .option('calibrate', { type: 'boolean', default: true, describe: "first a run of a third of --duration to measure how many log lines each scenario gives per request on this gateway, then the run compared, weighted by lines / (lines per request) (--no-calibrate: weights are the log's line counts)" })
        .option('suite', { type: 'string', describe: 'the scenarios to reproduce with: a folder of scenario files, a file, or a list file (default: the built-in scenarios)' })
        .example('$0 reproduce /var/log/nginx/error.log --gateway nginx --config my-nginx.conf', "your nginx's errors, reproduced through your config")
        .example('$0 reproduce haproxy.log --gateway haproxy --rate 500/s --duration 30s --reporter html:repro.html', 'a longer run, with plots'),
    async (argv) => {
      if (argv.gateway.includes(',')) throw new InputError('BG_BAD_FLAG', `--gateway ${argv.gateway}: a log comes from one gateway; name it.`);
      const adapter = gatewayById(argv.gateway.trim());
      // The log is read, and its reasons mapped to scenarios, by the adapter of the gateway that wrote it.
      const writer = argv['log-format'] === undefined ? adapter : gatewayById(argv['log-format'].trim());
      const file = String(argv.logfile);
      const log = readProductionLog(writer, await readInputText(file, { maxBytes: MAX_LOG_BYTES }));
      if (log.reasons.length === 0) {
        throw new InputError('BG_NOTHING_TO_REPRODUCE', `${file}: none of its ${log.lines} lines is one ${writer.id} logs for an upstream error that badgateway knows, so there is nothing to reproduce. Check that it is ${writer.id}'s error log (or access log, for gateways that log errors there) and that ${argv['log-format'] === undefined ? '--gateway' : '--log-format'} names the gateway that wrote it; \`badgateway explain "<a line>"\` shows what one line means.`);
      }
      const { scenarios, catalogue } = await loadSuite({ suite: argv.suite });
      const plan = planReproduction(writer, log, scenarios);
      if (plan.mix.length === 0) {
        const whys = plan.reasons.map((r) => `${r.reason} (${r.count}): ${r.why}`).join('; ');
        throw new InputError('BG_NOTHING_TO_REPRODUCE', `${file}: no reason in it can be reproduced by a load run: ${whys}. \`badgateway run --gateway ${adapter.id} --only <scenario>\` plays those scenarios one request at a time.`);
      }
      const targets = parseLoadReporters(argv.reporter, 'reproduce');
      await checkReportTargets({ targets });
      const userConfig = argv.config === undefined ? undefined : await readUserConfig(argv.config);
      const settings = settingsFrom(argv, adapter.id, plan.mix, {}, DEFAULTS);
      const consoleOnStdout = !targets.some((t) => t.path === undefined && t.id !== 'console');
      const color = useColor(process.stdout);
      if (consoleOnStdout) process.stdout.write(`${file}: ${log.lines} lines, ${log.reasons.reduce((n, r) => n + r.count, 0)} with a reason; mix ${plan.mix.map((e) => `${e.fault}:${e.weight}`).join(',')}\n`);
      const signals = abortOnSignals();
      try {
        const stopped = () => {
          process.stderr.write('badgateway: reproduce interrupted before the compared run started sending; everything it started was stopped.\n');
          process.exitCode = 130;
        };
        let calibration: Calibration | undefined;
        if (argv.calibrate) {
          if (consoleOnStdout) process.stdout.write('calibration run: ');
          const first = await driveLoad({ settings: { ...settings, durationMs: Math.max(1000, Math.round(settings.durationMs / 3)) }, adapter, catalogue, userConfig, signal: signals.signal, consoleOnStdout });
          if (first === undefined || first.interrupted || signals.signal.aborted) return stopped();
          calibration = calibrate(plan, first);
          if (consoleOnStdout) process.stdout.write(`lines per request: ${calibration.yields.map((y) => `${y.fault} ${y.linesPerRequest === undefined ? 'none' : y.linesPerRequest.toFixed(2)}`).join(', ')}\n`);
        }
        const load = await driveLoad({ settings: calibration ? { ...settings, mix: calibration.mix } : settings, adapter, catalogue, userConfig, signal: signals.signal, consoleOnStdout });
        if (load === undefined) return stopped();
        const result = compareReasons(file, log, plan, load, calibration);
        await writeResultReports(result, REPRODUCE_REPORTERS, targets, consoleOnStdout, color, `The run itself finished: ${load.sent} sent.`);
        process.exitCode = load.interrupted || signals.signal.aborted ? 130 : 0;
      } finally {
        signals.dispose();
      }
    },
  );
}
