import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { BadgatewayError, closest, InputError } from '../../errors.js';
import { gateways as GATEWAYS, loadSuite, type ProgressListener } from '../../index.js';
import { runVersions, versionInstances } from '../../api/versions.js';
import { securityCases, sourceLabel, gatewayLabel } from '../../report/model.js';
import { paint, useColor } from '../../report/terminal.js';
import { VERSIONS_RENDERERS } from '../../report/versions-matrix.js';
import type { VersionsReport } from '../../report/versions.js';
import { parseWholeNumber } from '../flags.js';
import { checkReportTargets } from '../reporters.js';
import { abortOnSignals } from './run.js';

type RendererId = keyof typeof VERSIONS_RENDERERS;
const IDS = Object.keys(VERSIONS_RENDERERS) as RendererId[];

export interface VersionsTarget {
  readonly id: RendererId;
  readonly reporter: { readonly id: string; readonly extension: string };
  readonly path?: string;
  readonly spec: string;
}

/** `--reporter NAME[:PATH]` for versions: console, markdown, html, json; one on stdout at most, one per file. */
export function parseVersionsReporters(specs: readonly string[]): VersionsTarget[] {
  const targets = specs
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((spec): VersionsTarget => {
      const i = spec.indexOf(':');
      const name = (i === -1 ? spec : spec.slice(0, i)).trim();
      if (!IDS.includes(name as RendererId)) {
        const near = IDS.find((id) => VERSIONS_RENDERERS[id].extension === `.${name.toLowerCase()}`) ?? closest(name, IDS, 1)[0];
        const other = name === 'junit' || name === 'github' ? ` (${name} reports one run's verdicts: use \`badgateway run\` for it)` : near ? ` (closest: ${near})` : '';
        throw new InputError('BG_BAD_FLAG', `--reporter "${spec}": versions has no reporter "${name}"${other}; use ${IDS.join(', ')}, optionally with :path (e.g. html:versions.html).`);
      }
      const id = name as RendererId;
      const reporter = { id, extension: VERSIONS_RENDERERS[id].extension };
      if (i === -1) return { id, reporter, spec };
      const path = spec.slice(i + 1).trim();
      if (path === '') throw new InputError('BG_BAD_FLAG', `--reporter "${spec}" has an empty path after the colon. Name the file (e.g. ${id}:versions${reporter.extension}), or leave out the colon to print it on stdout.`);
      return { id, reporter, path, spec };
    });
  const onStdout = targets.filter((t) => t.path === undefined);
  if (onStdout.length > 1) {
    throw new InputError('BG_BAD_FLAG', `--reporter ${onStdout.map((t) => t.spec).join(' and ')} would all print on stdout, one report run into the next. Give all but one a file: e.g. --reporter ${onStdout[1]!.id}:versions${onStdout[1]!.reporter.extension}.`);
  }
  const seen = new Map<string, string>();
  for (const t of targets) {
    if (t.path === undefined) continue;
    const before = seen.get(resolve(t.path));
    if (before) throw new InputError('BG_BAD_FLAG', `--reporter ${before} and --reporter ${t.spec} both write ${resolve(t.path)}; the second would overwrite the first. Give each report its own file.`);
    seen.set(resolve(t.path), t.spec);
  }
  // File reports keep the terminal informed: the console table prints on stdout unless another report does.
  if (onStdout.length === 0) targets.unshift({ id: 'console', reporter: { id: 'console', extension: '.txt' }, spec: 'console' });
  return targets;
}

export function versionsCommand(y: Argv) {
  return y.command(
    'versions',
    'Run a suite through several versions of one gateway and show where they differ: what changes if you upgrade',
    (a) =>
      a
        .option('gateway', { type: 'string', default: 'nginx', describe: `the gateway: ${GATEWAYS.map((g) => g.id).join(', ')}` })
        .option('image', { type: 'string', array: true, default: [] as string[], describe: 'a container image of that gateway, one per version (repeatable; at least two, or one with --local). Local images: scripts/build-gateway-image.sh GATEWAY --release bookworm|trixie|sid' })
        .option('local', { type: 'boolean', default: false, describe: "one more column: the gateway's binary on this host (process runtime)" })
        .option('suite', { type: 'string', describe: 'a folder of scenario files, one file, or a list file (default: the built-in catalogue)' })
        .option('only', { type: 'string', array: true, describe: 'run only scenarios whose id matches (`*` wildcards, repeatable)' })
        .option('all', { type: 'boolean', default: false, describe: 'show every scenario, not only the ones where versions differ' })
        .option('reporter', { type: 'string', array: true, default: ['console'], describe: `${IDS.join(', ')}; add :PATH to write a file (e.g. html:versions.html). ${IDS.map((id) => `${id}: ${VERSIONS_RENDERERS[id].describe}.`).join(' ')}` })
        .option('concurrency', { default: 64, describe: 'scenarios in flight at once per version (1 to 1024)' })
        .option('parallel', { type: 'boolean', default: false, describe: 'run every version at once instead of one after another: faster, but on a busy machine timing scenarios can tip over and show as differences' })
        .option('faults-file', { type: 'string', array: true, describe: 'load custom faults for the suite (repeatable)' })
        .example('$0 versions --gateway nginx --image badgateway/nginx:bookworm --image badgateway/nginx:sid', 'what changes from nginx 1.22 to 1.30')
        .example('$0 versions --gateway haproxy --image badgateway/haproxy:bookworm --image badgateway/haproxy:trixie --image badgateway/haproxy:sid --reporter markdown:haproxy.md', 'three versions, a markdown matrix')
        .example('$0 versions --image nginx:stable --local --all', 'the official image against your local nginx, every scenario'),
    async (argv) => {
      const concurrency = parseWholeNumber('--concurrency', argv.concurrency, { min: 1, max: 1024, what: 'a whole number from 1 to 1024, the scenarios in flight at once per version' });
      if (argv.gateway.includes(',')) throw new InputError('BG_BAD_FLAG', `--gateway ${argv.gateway}: versions compares versions of one gateway. Name one (e.g. --gateway ${argv.gateway.split(',')[0]!.trim()}); to compare different gateways, use \`badgateway run --gateway ${argv.gateway}\`.`);
      // Checked before anything starts: the gateway, the columns, the report files, the suite.
      versionInstances({ gateway: argv.gateway, images: argv.image, local: argv.local });
      const targets = parseVersionsReporters(argv.reporter);
      await checkReportTargets({ targets });
      const loaded = await loadSuite({ suite: argv.suite, only: argv.only, faultsFiles: argv['faults-file'] });
      const color = useColor(process.stdout);
      const consoleOnStdout = targets.some((t) => t.id === 'console' && t.path === undefined);
      const p = paint(color);
      const progress: ProgressListener | undefined = consoleOnStdout
        ? {
            onGatewayReady(info) {
              const from = sourceLabel(info);
              process.stdout.write(`${p('bold', gatewayLabel(info))}: ${info.scenarios} scenarios${from ? p('dim', ` · ${from}`) : ''}\n`);
            },
          }
        : undefined;
      const signals = abortOnSignals();
      let report: VersionsReport | undefined;
      try {
        try {
          report = await runVersions({ gateway: argv.gateway, images: argv.image, local: argv.local, loaded, concurrency, parallel: argv.parallel, signal: signals.signal, progress });
        } catch (err) {
          if (!signals.signal.aborted) throw err;
        }
        if (signals.signal.aborted || report === undefined) {
          process.stderr.write('badgateway: run interrupted; everything it started was stopped.\n');
          process.exitCode = 130;
          return;
        }
        await writeVersionsReports(report, targets, { all: argv.all, color, consoleOnStdout });
        process.exitCode = report.columns.some((c) => c.failed > 0) ? 1 : securityCases(report.result).length > 0 ? 3 : 0;
      } finally {
        signals.dispose();
      }
    },
  );
}

async function writeVersionsReports(report: VersionsReport, targets: readonly VersionsTarget[], opts: { all: boolean; color: boolean; consoleOnStdout: boolean }): Promise<void> {
  const notices = opts.consoleOnStdout ? process.stdout : process.stderr;
  const failures: string[] = [];
  for (const t of targets) {
    const text = VERSIONS_RENDERERS[t.id].render(report, { all: opts.all, color: t.path === undefined && opts.color });
    if (t.path === undefined) {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      continue;
    }
    try {
      await writeFile(t.path, text);
      notices.write(`wrote ${t.id} report to ${t.path}\n`);
    } catch (err) {
      failures.push(`the ${t.id} report could not be written to ${t.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (failures.length) throw new BadgatewayError('BG_REPORT_WRITE', `${failures.join('; ')}. The run itself finished. Free space or fix the permissions and run again.`);
}
