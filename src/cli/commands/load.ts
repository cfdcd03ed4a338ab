/**
 * `badgateway load`: one gateway in front of the chaos upstream, driven at a target rate with a
 * seeded mix of faults, and a report of what came back (src/load/).
 */
import { writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { BadgatewayError, InputError } from '../../errors.js';
import { gatewayById, GATEWAYS } from '../../gateways/index.js';
import { loadCatalogue, readUserConfig } from '../../api/suite.js';
import { parseDuration, parseRate, parseSeed } from '../../load/flags.js';
import { parseMix } from '../../load/mix.js';
import { loadToConsole, loadToJson, loadToMarkdown } from '../../load/report.js';
import { freshSeed, runLoad, type LoadResult, type LoadSettings } from '../../load/run.js';
import { RUNTIME_CHOICES, RUNTIMES, type RuntimeChoice } from '../../runtimes/index.js';
import { useColor } from '../../report/terminal.js';
import { parseWholeNumber } from '../flags.js';
import { checkReportTargets } from '../reporters.js';
import { abortOnSignals } from './run.js';

const LOAD_REPORTERS = [
  { id: 'console', extension: '.txt', render: (r: LoadResult, color: boolean) => loadToConsole(r, color) },
  { id: 'json', extension: '.json', render: (r: LoadResult) => loadToJson(r) },
  { id: 'markdown', extension: '.md', render: (r: LoadResult) => loadToMarkdown(r) },
] as const;
type LoadReporter = (typeof LOAD_REPORTERS)[number];

interface LoadTarget {
  readonly reporter: LoadReporter;
  readonly path?: string;
  readonly spec: string;
}

export function parseLoadReporters(specs: readonly string[]): LoadTarget[] {
  const targets = specs
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((spec): LoadTarget => {
      const i = spec.indexOf(':');
      const name = i === -1 ? spec : spec.slice(0, i);
      const reporter = LOAD_REPORTERS.find((r) => r.id === name);
      if (!reporter) throw new InputError('BG_BAD_FLAG', `--reporter "${spec}": load writes ${LOAD_REPORTERS.map((r) => r.id).join(', ')}, each optionally with :path (e.g. json:load.json); "${name}" is none of them.`);
      const path = i === -1 ? undefined : spec.slice(i + 1).trim();
      if (path === '') throw new InputError('BG_BAD_FLAG', `--reporter "${spec}" has an empty path after the colon: name the file (e.g. ${name}:load${reporter.extension}), or leave out the colon to print it on stdout.`);
      return { reporter, path, spec };
    });
  const onStdout = targets.filter((t) => t.path === undefined);
  if (onStdout.length > 1) throw new InputError('BG_BAD_FLAG', `--reporter ${onStdout.map((t) => t.spec).join(' and ')} would all print on stdout, one into the next; give all but one a file (e.g. ${onStdout[1]!.reporter.id}:load${onStdout[1]!.reporter.extension}).`);
  return targets;
}

export function loadCommand(y: Argv) {
  return y.command(
    'load',
    'Drive one gateway at a target rate with a seeded mix of faults; report statuses, latency percentiles, the error rate with its confidence interval, and the log reasons',
    (a) =>
      a
        .option('gateway', { type: 'string', default: 'nginx', describe: `one gateway: ${GATEWAYS.map((g) => g.id).join(', ')}` })
        .option('runtime', { choices: RUNTIME_CHOICES, default: 'auto' as RuntimeChoice, describe: `auto: the first that can run the gateway; ${RUNTIMES.map((r) => `${r.id}: ${r.describe}`).join('; ')}` })
        .option('image', { type: 'string', describe: 'container image for the gateway (container runtime)' })
        .option('config', { type: 'string', describe: 'your own gateway config with placeholders ({{listen}}, {{upstream}}); it must pass the request path on unchanged (/s/load/<fault>)' })
        .option('rate', { type: 'string', default: '100/s', describe: 'target requests per second, sent on schedule whether or not earlier ones answered (N/s or N/m)' })
        .option('duration', { type: 'string', default: '10s', describe: 'how long to send (30s, 500ms, 2m)' })
        .option('connections', { default: 64, describe: 'most connections to the gateway at once (1 to 10000); a request due while all are busy waits, and its wait counts in its latency' })
        .option('method', { choices: ['GET', 'POST'] as const, default: 'GET' as const, describe: 'request method (POST sends a 128-byte body)' })
        .option('mix', { type: 'string', default: 'healthy:1', describe: 'fault:weight pairs, comma-separated: each request gets one fault, drawn with these weights (HTTP exchange faults; `badgateway faults`)' })
        .option('seed', { type: 'string', describe: 'seed of the fault draw: the same seed replays the same faults in the same order (default: a fresh one, printed)' })
        .option('keepalive', { type: 'boolean', default: true, describe: 'the gateway pools its upstream connections (--no-keepalive: a new one per request); ignored with --config' })
        .option('timeout', { type: 'string', default: '5s', describe: 'a request without a whole response after this long is given up' })
        .option('reporter', { type: 'string', array: true, default: ['console'], describe: 'console, json, markdown; add :PATH to write a file (json:load.json). Without a reporter on stdout the console report prints there too' })
        .example('$0 load --rate 2000/s --duration 30s --mix healthy:999,keepalive-idle-close:1 --seed 7', 'a rare keep-alive race through nginx')
        .example('$0 load --gateway haproxy --method POST --mix healthy:99,reset-after-request:1 --reporter json:load.json', 'POSTs, 1 % reset, a JSON report'),
    async (argv) => {
      const rate = parseRate(argv.rate);
      const durationMs = parseDuration('--duration', argv.duration);
      const timeoutMs = parseDuration('--timeout', argv.timeout, '5s');
      const connections = parseWholeNumber('--connections', argv.connections, { min: 1, max: 10_000, what: 'a whole number from 1 to 10000, the most connections to the gateway at once' });
      const seed = argv.seed === undefined ? freshSeed() : parseSeed(argv.seed);
      if (argv.gateway.includes(',')) throw new InputError('BG_BAD_FLAG', `--gateway ${argv.gateway}: load drives one gateway at a time; name one (run it again for another).`);
      const adapter = gatewayById(argv.gateway.trim());
      if (argv.image !== undefined && argv.runtime === 'process') throw new InputError('BG_BAD_FLAG', `--image ${argv.image} names a container image, but --runtime process runs no container. Drop --image, or use --runtime container (or auto).`);
      const catalogue = await loadCatalogue();
      const mix = parseMix(String(argv.mix), catalogue);
      const targets = parseLoadReporters(argv.reporter);
      await checkReportTargets({ targets });
      const userConfig = argv.config === undefined ? undefined : await readUserConfig(argv.config);
      const settings: LoadSettings = { gateway: adapter.id, runtime: argv.runtime as RuntimeChoice, image: argv.image, config: argv.config, rate, durationMs, connections, method: argv.method, mix, seed, keepalive: argv.keepalive, timeoutMs };
      const consoleOnStdout = !targets.some((t) => t.path === undefined && t.reporter.id !== 'console');
      const color = useColor(process.stdout);
      // Live progress only on a terminal: a log file or a pipe gets the report alone.
      const live = consoleOnStdout && process.stdout.isTTY === true;
      const signals = abortOnSignals();
      let result: LoadResult | undefined;
      try {
        try {
          result = await runLoad({
            settings,
            adapter,
            catalogue,
            userConfig,
            signal: signals.signal,
            onStarted: (g) => {
              if (consoleOnStdout) process.stdout.write(`${g.id}${g.version ? ` ${g.version}` : ''} (${g.runtime}): ${rate}/s for ${durationMs / 1000} s, seed ${seed}\n`);
            },
            onProgress: live
              ? (p) => {
                  const left = Math.max(0, (p.durationMs - p.elapsedMs) / 1000);
                  const r = p.elapsedMs > 0 ? p.sent / (p.elapsedMs / 1000) : 0;
                  process.stdout.write(`\r\x1b[K  ${r.toFixed(0)}/s · sent ${p.sent} · errors ${p.errors}${p.done ? ` (${((p.errors / p.done) * 100).toFixed(2)} %)` : ''} · ${left.toFixed(1)} s left`);
                }
              : undefined,
          });
        } catch (err) {
          if (!signals.signal.aborted) throw err;
        } finally {
          if (live) process.stdout.write('\r\x1b[K');
        }
        if (result === undefined) {
          process.stderr.write('badgateway: load interrupted before it started sending; everything it started was stopped.\n');
          process.exitCode = 130;
          return;
        }
        await writeLoadReports(result, targets, consoleOnStdout, color);
        process.exitCode = result.interrupted || signals.signal.aborted ? 130 : 0;
      } finally {
        signals.dispose();
      }
    },
  );
}

async function writeLoadReports(result: LoadResult, targets: readonly LoadTarget[], consoleOnStdout: boolean, color: boolean): Promise<void> {
  const all = [...targets];
  if (consoleOnStdout && !all.some((t) => t.path === undefined)) all.unshift({ reporter: LOAD_REPORTERS[0], spec: 'console' });
  const notices: string[] = [];
  const failures: string[] = [];
  for (const t of all) {
    const text = t.reporter.render(result, t.path === undefined && color);
    if (t.path === undefined) {
      process.stdout.write(text);
      continue;
    }
    try {
      await writeFile(t.path, text);
      notices.push(`wrote ${t.reporter.id} report to ${t.path}`);
    } catch (err) {
      failures.push(`the ${t.reporter.id} report could not be written to ${t.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (notices.length) (consoleOnStdout ? process.stdout : process.stderr).write(notices.join('\n') + '\n');
  if (failures.length) throw new BadgatewayError('BG_REPORT_WRITE', `${failures.join('; ')}. The load run itself finished: ${result.sent} sent, ${result.errors.count} errors. Free space or fix the permissions and run again.`);
}
