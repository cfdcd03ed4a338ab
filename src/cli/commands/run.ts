import { setMaxListeners } from 'node:events';
import type { Argv } from 'yargs';
import { gateways as GATEWAYS, InputError, loadSuite, RUNTIME_CHOICES, RUNTIMES, runSuite, type ProgressListener, type RuntimeChoice, type SuiteResult } from '../../index.js';
import { gatewayById } from '../../gateways/index.js';
import { runtimeRefusal } from '../../gateways/profile.js';
import { consoleProgress } from '../../report/console.js';
import { parseShard } from '../../harness/shard.js';
import { parseWholeNumber } from '../flags.js';
import { useColor } from '../../report/terminal.js';
import { checkReportTargets, parseReporters, reporterHelp, writeReports } from '../reporters.js';

/** Ctrl-C and SIGTERM abort the run; the harness unwinds everything it started. */
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  // Each gateway's run, runtime and started parts listen on this one signal: several gateways
  // together pass Node's default warning threshold of 10 without any leak.
  setMaxListeners(100, ctl.signal);
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\nbadgateway: ${sig}, stopping and cleaning up…\n`);
    ctl.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ctl.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function runCommand(y: Argv) {
  return y.command(
    'run',
    'Run a scenario suite through real gateways and check what the client saw and what the gateway logged',
    (a) =>
      a
        .option('gateway', { type: 'string', default: 'nginx', describe: `gateway(s), comma-separated: ${GATEWAYS.map((g) => g.id).join(', ')}` })
        .option('suite', { type: 'string', describe: 'a folder of scenario files, one file, or a list file (default: the built-in catalogue)' })
        .option('only', { type: 'string', array: true, describe: 'run only scenarios whose id matches (`*` wildcards, repeatable)' })
        .option('runtime', { choices: RUNTIME_CHOICES, default: 'auto' as RuntimeChoice, describe: `auto: the first that can run the gateway; ${RUNTIMES.map((r) => `${r.id}: ${r.describe}`).join('; ')}` })
        .option('image', { type: 'string', array: true, describe: 'container image for the gateway (default: the official image, e.g. nginx:stable, pulled if missing; else the local one scripts/build-gateway-image.sh builds); with several gateways, GATEWAY=IMAGE (repeatable)' })
        .option('config', { type: 'string', describe: 'your own gateway config with placeholders ({{listen}}, {{upstream}}, {{healthy}}): reports what it turns each fault into' })
        .option('reporter', { type: 'string', array: true, default: ['console'], describe: reporterHelp() })
        .option('concurrency', { default: 64, describe: 'scenarios in flight at once per gateway (1 to 1024)' })
        .option('faults-file', { type: 'string', array: true, describe: 'load custom faults for the suite (repeatable)' })
        .option('shard', { type: 'string', describe: 'k/n: run the k-th of n parts of the scenario × gateway cells, one CI job each (the same split on every machine); merge their JSON reports with merge-reports' })
        .example('$0 run', 'the built-in suite through nginx')
        .example('$0 run --only "body-cut-*" --runtime process', 'some scenarios, local nginx binary')
        .example('$0 run --config ./my-nginx.conf', 'what your nginx config turns each fault into')
        .example('$0 run --gateway nginx,envoy --runtime container --image envoy=envoyproxy/envoy:v1.39-latest', 'an image for one gateway of several')
        .example('$0 run --reporter console --reporter junit:report.xml --reporter markdown:summary.md', 'CI reports')
        .example('$0 run --gateway nginx,haproxy --shard 2/4 --reporter json:shard-2.json', 'the second of four CI jobs; then merge-reports shard-*.json'),
    async (argv) => {
      const concurrency = parseWholeNumber('--concurrency', argv.concurrency, { min: 1, max: 1024, what: 'a whole number from 1 to 1024, the scenarios in flight at once per gateway' });
      if (Array.isArray(argv.shard)) throw new InputError('BG_BAD_FLAG', `--shard was given ${argv.shard.length} times (${argv.shard.join(', ')}); give it once, e.g. --shard 2/4.`);
      const shard = argv.shard === undefined ? undefined : parseShard(String(argv.shard));
      if (argv.image !== undefined && argv.image.length > 0 && argv.runtime !== 'container' && argv.runtime !== 'auto') {
        throw new InputError('BG_BAD_FLAG', `--image ${argv.image.join(' --image ')} names a container image, but --runtime ${argv.runtime} runs no container. Drop --image, or use --runtime container (or auto).`);
      }
      const gateways = argv.gateway.split(',').map((g) => gatewayById(g.trim()));
      // A profile (alb, cloudflare) runs only where it is: refused before anything starts.
      for (const g of gateways) {
        const refused = runtimeRefusal(g, String(argv.runtime));
        if (refused) throw new InputError('BG_RUNTIME_UNSUPPORTED', refused);
      }
      const reports = parseReporters(argv.reporter);
      // Before anything starts: a report that cannot be written must not cost a whole run first.
      await checkReportTargets(reports);
      const loaded = await loadSuite({ suite: argv.suite, only: argv.only, faultsFiles: argv['faults-file'] });
      if (argv.config !== undefined && gateways.length > 1) throw new InputError('BG_BAD_FLAG', '--config is a config for one gateway; name that one with --gateway.');
      const image = parseImages(argv.image, gateways.map((g) => g.id));
      const color = useColor(process.stdout);
      const progress: ProgressListener | undefined = reports.consoleOnStdout ? consoleProgress(process.stdout, color) : undefined;
      const signals = abortOnSignals();
      let result: SuiteResult | undefined;
      // The handlers stay until the reports are written: a Ctrl-C then still exits 130, never mid-file.
      try {
        try {
          result = await runSuite({
            loaded,
            gateways: gateways.map((g) => g.id),
            runtime: argv.runtime as RuntimeChoice,
            image,
            config: argv.config,
            concurrency,
            signal: signals.signal,
            progress,
            shard,
          });
        } catch (err) {
          if (!signals.signal.aborted) throw err;
        }
        if (signals.signal.aborted || result === undefined) {
          process.stderr.write('badgateway: run interrupted; everything it started was stopped.\n');
          process.exitCode = 130;
          return;
        }
        await writeReports(result, reports, { stdout: process.stdout, stderr: process.stderr, color });
        process.exitCode = signals.signal.aborted ? 130 : result.failed > 0 ? 1 : 0;
      } finally {
        signals.dispose();
      }
    },
  );
}

/**
 * `--image IMAGE` for one gateway, or `--image GATEWAY=IMAGE` (repeatable) for any of several:
 * one image can never be every gateway's.
 */
export function parseImages(values: readonly string[] | undefined, gateways: readonly string[]): string | Readonly<Record<string, string>> | undefined {
  if (!values || values.length === 0) return undefined;
  const byGateway: Record<string, string> = {};
  const plain: string[] = [];
  for (const v of values) {
    const m = /^([a-z0-9-]+)=(.+)$/.exec(v);
    if (!m) {
      plain.push(v);
      continue;
    }
    const [, id, img] = m;
    if (!gateways.includes(id!)) throw new InputError('BG_BAD_FLAG', `--image ${v} names gateway "${id}", which this run does not use (--gateway ${gateways.join(',')}).`);
    byGateway[id!] = img!;
  }
  if (plain.length > 0) {
    if (gateways.length > 1 || plain.length > 1 || Object.keys(byGateway).length > 0) {
      throw new InputError('BG_BAD_FLAG', `--image ${plain[0]} would be the image of every gateway in this run (${gateways.join(', ')}); name the gateway it is for: --image ${gateways.at(-1)}=${plain[0]}.`);
    }
    return plain[0];
  }
  return byGateway;
}
