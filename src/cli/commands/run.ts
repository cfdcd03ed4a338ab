import { setMaxListeners } from 'node:events';
import type { Argv } from 'yargs';
import { gateways as GATEWAYS, InputError, loadSuite, RUNTIME_CHOICES, RUNTIMES, runSuite, type ProgressListener, type RuntimeChoice, type SuiteResult } from '../../index.js';
import { gatewayById } from '../../gateways/index.js';
import { runtimeRefusal } from '../../gateways/profile.js';
import { consoleProgress } from '../../report/console.js';
import { parseShard } from '../../harness/shard.js';
import { checkExternalOptions, DEFAULT_HEALTH_PATH, parseListenerUrls, type ExternalOptions } from '../../harness/external.js';
import { controlToken, TOKEN_ENV } from '../control-token.js';
import { parseWholeNumber, PORT } from '../flags.js';
import { useColor } from '../../report/terminal.js';
import { exitStatus } from '../../report/model.js';
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
        .option('url', { type: 'string', describe: "--runtime external: the running gateway's http:// address; probes go to URL/s/<scenario>/" })
        .option('upstream-listen', { type: 'string', describe: '--runtime external: start the chaos upstream on HOST:PORT, where your gateway routes /s/ (beyond loopback: needs a control token)' })
        .option('upstream-control', { type: 'string', describe: '--runtime external: the control API of an upstream deployed with `badgateway serve --suite DIR`; the run checks it serves this suite' })
        .option('control-token-file', { type: 'string', describe: `the control API's token, from the first line of this file; or set env ${TOKEN_ENV}` })
        .option('control-token', { type: 'string', describe: `the control API's token on the command line (every local user sees it in ps; prefer env ${TOKEN_ENV} or --control-token-file)` })
        .option('listener-url', { type: 'string', array: true, describe: '--runtime external: FAULT=URL, a gateway URL you routed to where a listener or DNS fault plays (repeatable); unmapped ones are skipped' })
        .option('gateway-log', { type: 'string', describe: "--runtime external: the gateway's log file, read from where it is when the run begins" })
        .option('gateway-log-cmd', { type: 'string', describe: "--runtime external: a command whose output is the gateway's log (e.g. \"kubectl logs -f deploy/ingress-nginx-controller\"), killed when the run ends" })
        .option('gateway-version', { type: 'string', describe: "--runtime external: the gateway's version, when its Server header does not say it" })
        .option('health-path', { type: 'string', default: DEFAULT_HEALTH_PATH, describe: '--upstream-listen: the path the chaos upstream answers 200 on, for your gateway\'s health check' })
        .option('shard', { type: 'string', describe: 'k/n: run the k-th of n parts of the scenario × gateway cells, one CI job each (the same split on every machine); merge their JSON reports with merge-reports' })
        .example('$0 run', 'the built-in suite through nginx')
        .example('$0 run --only "body-cut-*" --runtime process', 'some scenarios, local nginx binary')
        .example('$0 run --config ./my-nginx.conf', 'what your nginx config turns each fault into')
        .example('$0 run --gateway nginx,envoy --runtime container --image envoy=envoyproxy/envoy:v1.39-latest', 'an image for one gateway of several')
        .example('$0 run --reporter console --reporter junit:report.xml --reporter markdown:summary.md', 'CI reports')
        .example('$0 run --gateway nginx --runtime external --url http://127.0.0.1:8080 --upstream-listen 127.0.0.1:9000 --gateway-log /var/log/nginx/error.log', 'your running nginx, which routes /s/ to 127.0.0.1:9000')
        .example('$0 run --gateway nginx --runtime external --url http://staging:80 --upstream-control http://10.0.0.5:8081 --gateway-log-cmd "kubectl logs -f deploy/ingress-nginx-controller"', 'an upstream deployed with serve --suite (token from BADGATEWAY_CONTROL_TOKEN)')
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
      // The external runtime's flags before the suite loads: a wrong one costs no time.
      const externalFlags = argv.runtime === 'external' ? externalOptions(argv) : undefined;
      if (externalFlags === undefined) {
        const stray = ['url', 'upstream-listen', 'upstream-control', 'listener-url', 'gateway-log', 'gateway-log-cmd', 'gateway-version'].filter((f) => argv[f] !== undefined);
        if (stray.length) throw new InputError('BG_BAD_FLAG', `--${stray.join(', --')} ${stray.length > 1 ? 'are' : 'is'} for a gateway already running: add --runtime external (or drop ${stray.length > 1 ? 'them' : 'it'}).`);
      }
      const loaded = await loadSuite({ suite: argv.suite, only: argv.only, faultsFiles: argv['faults-file'] });
      const external = externalFlags && { ...externalFlags, listenerUrls: parseListenerUrls(argv['listener-url'], loaded.catalogue) };
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
            external,
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
        process.exitCode = signals.signal.aborted ? 130 : exitStatus(result);
      } finally {
        signals.dispose();
      }
    },
  );
}

/** The external runtime's flags, checked before anything starts. */
function externalOptions(argv: Record<string, unknown>): ExternalOptions {
  const str = (k: string) => (argv[k] === undefined ? undefined : String(argv[k]));
  if (str('url') === undefined) throw new InputError('BG_BAD_FLAG', "--runtime external drives a gateway already running: give its address with --url, e.g. --url http://127.0.0.1:8080 (probes go to URL/s/<scenario>/).");
  if (argv.config !== undefined || (argv.image as string[] | undefined)?.length) throw new InputError('BG_BAD_FLAG', '--runtime external drives a gateway already running with its own config: --config and --image are for the gateways badgateway starts.');
  if (String(argv.gateway).includes(',')) throw new InputError('BG_BAD_FLAG', `--runtime external drives one gateway at one URL; name one with --gateway, not ${String(argv.gateway)}.`);
  let upstreamListen: { host: string; port: number } | undefined;
  const listen = str('upstream-listen');
  if (listen !== undefined) {
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
    if (!m || m[1] === '') throw new InputError('BG_BAD_FLAG', `--upstream-listen ${listen}: expected HOST:PORT, the address your gateway routes /s/ to, e.g. --upstream-listen 127.0.0.1:9000.`);
    upstreamListen = { host: m[1]!, port: parseWholeNumber('--upstream-listen', m[2], { ...PORT, min: 1, what: 'a port from 1 to 65535: the fixed one your gateway routes to' }) };
  }
  const token = controlToken({ flag: str('control-token'), file: str('control-token-file'), env: process.env[TOKEN_ENV] }, (l) => process.stderr.write(`${l}\n`));
  const ext: ExternalOptions = {
    url: str('url')!,
    upstreamListen,
    upstreamControl: str('upstream-control'),
    controlToken: token,
    gatewayLog: str('gateway-log'),
    gatewayLogCmd: str('gateway-log-cmd'),
    gatewayVersion: str('gateway-version'),
    healthPath: str('health-path'),
  };
  checkExternalOptions(ext);
  return ext;
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
