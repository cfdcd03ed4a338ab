/**
 * `badgateway load`: one gateway in front of the chaos upstream, driven at a target rate with a
 * seeded mix of faults, and a report of what came back (src/load/).
 */
import { writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { BadgatewayError, InputError } from '../../errors.js';
import { gatewayById, GATEWAYS } from '../../gateways/index.js';
import { loadCatalogue, loadSuite, readUserConfig } from '../../api/suite.js';
import type { Catalogue } from '../../faults/registry.js';
import type { GatewayAdapter } from '../../gateways/gateway.js';
import { loadToHtml, sweepToHtml } from '../../load/html.js';
import { parseSweep, sweptMix, type SweepResult } from '../../load/sweep.js';
import type { LoadBlock } from '../../scenarios/load-block.js';
import { parseDuration, parseRate, parseSeed } from '../../load/flags.js';
import { parseMix } from '../../load/mix.js';
import { loadToConsole, loadToJson, loadToMarkdown, sweepToConsole, sweepToJson, sweepToMarkdown } from '../../load/report.js';
import { freshSeed, runLoad, type LoadResult, type LoadSettings } from '../../load/run.js';
import { RUNTIME_CHOICES, RUNTIMES, type RuntimeChoice } from '../../runtimes/index.js';
import { useColor } from '../../report/terminal.js';
import { parseWholeNumber } from '../flags.js';
import { checkReportTargets } from '../reporters.js';
import { abortOnSignals } from './run.js';

/** A reporter of one kind of result (a load run, a sweep, a reproduction). */
export interface ResultReporter<R> {
  readonly id: string;
  readonly extension: string;
  render(r: R, color: boolean): string;
}

const LOAD_REPORTERS: ReadonlyArray<ResultReporter<LoadResult>> = [
  { id: 'console', extension: '.txt', render: (r, color) => loadToConsole(r, color) },
  { id: 'json', extension: '.json', render: (r) => loadToJson(r) },
  { id: 'markdown', extension: '.md', render: (r) => loadToMarkdown(r) },
  { id: 'html', extension: '.html', render: (r) => loadToHtml(r) },
];

const SWEEP_REPORTERS: ReadonlyArray<ResultReporter<SweepResult>> = [
  { id: 'console', extension: '.txt', render: (r, color) => sweepToConsole(r, color) },
  { id: 'json', extension: '.json', render: (r) => sweepToJson(r) },
  { id: 'markdown', extension: '.md', render: (r) => sweepToMarkdown(r) },
  { id: 'html', extension: '.html', render: (r) => sweepToHtml(r) },
];

export interface LoadTarget {
  /** A reporter id: console, json, markdown, html (the same for load, sweep and reproduce). */
  readonly id: string;
  readonly extension: string;
  readonly reporter: { readonly id: string; readonly extension: string };
  readonly path?: string;
  readonly spec: string;
}

export function parseLoadReporters(specs: readonly string[], command = 'load'): LoadTarget[] {
  const targets = specs
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((spec): LoadTarget => {
      const i = spec.indexOf(':');
      const name = i === -1 ? spec : spec.slice(0, i);
      const reporter = LOAD_REPORTERS.find((r) => r.id === name);
      if (!reporter) throw new InputError('BG_BAD_FLAG', `--reporter "${spec}": ${command} writes ${LOAD_REPORTERS.map((r) => r.id).join(', ')}, each optionally with :path (e.g. json:${command}.json); "${name}" is none of them.`);
      const path = i === -1 ? undefined : spec.slice(i + 1).trim();
      if (path === '') throw new InputError('BG_BAD_FLAG', `--reporter "${spec}" has an empty path after the colon: name the file (e.g. ${name}:${command}${reporter.extension}), or leave out the colon to print it on stdout.`);
      return { id: reporter.id, extension: reporter.extension, reporter: { id: reporter.id, extension: reporter.extension }, path, spec };
    });
  const onStdout = targets.filter((t) => t.path === undefined);
  if (onStdout.length > 1) throw new InputError('BG_BAD_FLAG', `--reporter ${onStdout.map((t) => t.spec).join(' and ')} would all print on stdout, one into the next; give all but one a file (e.g. ${onStdout[1]!.id}:${command}${onStdout[1]!.extension}).`);
  return targets;
}

/** The options `load` and `reproduce` share: where the gateway runs and how it is driven. */
export function runOptions<T>(a: Argv<T>, defaults: { readonly rate: string; readonly duration: string }) {
  return a
    .option('runtime', { choices: RUNTIME_CHOICES, default: 'auto' as RuntimeChoice, describe: `auto: the first that can run the gateway; ${RUNTIMES.map((r) => `${r.id}: ${r.describe}`).join('; ')}` })
    .option('image', { type: 'string', describe: 'container image for the gateway (container runtime)' })
    .option('config', { type: 'string', describe: 'your own gateway config with placeholders ({{listen}}, {{upstream}}); it must pass the request path on unchanged (/s/load/<fault>)' })
    .option('rate', { type: 'string', describe: `target requests per second, sent on schedule whether or not earlier ones answered (N/s or N/m; default ${defaults.rate})` })
    .option('duration', { type: 'string', describe: `how long to send (30s, 500ms, 2m; default ${defaults.duration})` })
    .option('connections', { describe: 'most connections to the gateway at once (1 to 10000; default 64); a request due while all are busy waits, and its wait counts in its latency' })
    .option('method', { choices: ['GET', 'POST'] as const, describe: 'request method (POST sends a 128-byte body; default GET)' })
    .option('seed', { type: 'string', describe: 'seed of the fault draw: the same seed replays the same faults in the same order (default: a fresh one, printed)' })
    .option('keepalive', { type: 'boolean', default: true, describe: 'the gateway pools its upstream connections (--no-keepalive: a new one per request); ignored with --config' })
    .option('timeout', { type: 'string', default: '5s', describe: 'a request without a whole response after this long is given up' })
    .option('reporter', { type: 'string', array: true, default: ['console'], describe: 'console, json, markdown, html; add :PATH to write a file (json:load.json). Without a reporter on stdout the console report prints there too' });
}

interface RunArgs {
  readonly runtime: string;
  readonly image?: string;
  readonly config?: string;
  readonly rate?: string;
  readonly duration?: string;
  readonly connections?: unknown;
  readonly method?: 'GET' | 'POST';
  readonly seed?: string;
  readonly keepalive: boolean;
  readonly timeout: string;
}

/** Settings from the flags; a flag given wins over `base` (a scenario's load: block), which wins over the defaults. */
export function settingsFrom(argv: RunArgs, gateway: string, mix: LoadSettings['mix'], base: { rate?: number; durationMs?: number; connections?: number; method?: 'GET' | 'POST' }, defaults: { readonly rate: string; readonly duration: string }): LoadSettings {
  if (argv.image !== undefined && argv.runtime === 'process') throw new InputError('BG_BAD_FLAG', `--image ${argv.image} names a container image, but --runtime process runs no container. Drop --image, or use --runtime container (or auto).`);
  const rate = argv.rate !== undefined ? parseRate(argv.rate) : (base.rate ?? parseRate(defaults.rate));
  const durationMs = argv.duration !== undefined ? parseDuration('--duration', argv.duration) : (base.durationMs ?? parseDuration('--duration', defaults.duration));
  const timeoutMs = parseDuration('--timeout', argv.timeout, '5s');
  const connections = argv.connections !== undefined ? parseWholeNumber('--connections', argv.connections, { min: 1, max: 10_000, what: 'a whole number from 1 to 10000, the most connections to the gateway at once' }) : (base.connections ?? 64);
  const seed = argv.seed === undefined ? freshSeed() : parseSeed(argv.seed);
  return { gateway, runtime: argv.runtime as RuntimeChoice, image: argv.image, config: argv.config, rate, durationMs, connections, method: argv.method ?? base.method ?? 'GET', mix, seed, keepalive: argv.keepalive, timeoutMs };
}

const LOAD_DEFAULTS = { rate: '100/s', duration: '10s' } as const;

export function loadCommand(y: Argv) {
  return y.command(
    'load',
    'Drive one gateway at a target rate with a seeded mix of faults; report statuses, latency percentiles, the error rate with its confidence interval, and the log reasons',
    (a) =>
      runOptions(a, LOAD_DEFAULTS)
        .option('gateway', { type: 'string', default: 'nginx', describe: `one gateway: ${GATEWAYS.map((g) => g.id).join(', ')}` })
        .option('mix', { type: 'string', describe: 'fault:weight pairs, comma-separated: each request gets one fault, drawn with these weights (HTTP exchange faults, `badgateway faults`; a fault may carry parameters, fault?idleMs=5000:1; default healthy:1)' })
        .option('scenario', { type: 'string', describe: "a scenario whose load: block (rate, duration, connections, method, mix, sweep) sets the run; flags given win over it" })
        .option('suite', { type: 'string', describe: 'where --scenario is looked up: a folder of scenario files, a file, or a list file (default: the built-in scenarios)' })
        .option('sweep', { type: 'string', describe: 'PARAM=V1,V2,...: one run per value of a parameter of the mix\'s faults, one row per value in the report (e.g. idleMs=1000,5000,60000)' })
        .option('save-log', { type: 'string', describe: "write the gateway's log, as read after the run, to this file (a sweep writes one per value, FILE.<value>)" })
        .example('$0 load --rate 2000/s --duration 30s --mix healthy:999,keepalive-idle-close:1 --seed 7', 'a rare keep-alive race through nginx')
        .example('$0 load --gateway haproxy --method POST --mix healthy:99,reset-after-request:1 --reporter json:load.json', 'POSTs, 1 % reset, a JSON report')
        .example('$0 load --mix healthy:99,keepalive-idle-close:1 --sweep idleMs=1000,5000,60000 --reporter html:sweep.html', 'one run per backend idle timeout, with plots'),
    async (argv) => {
      if (argv.gateway.includes(',')) throw new InputError('BG_BAD_FLAG', `--gateway ${argv.gateway}: load drives one gateway at a time; name one (run it again for another).`);
      const adapter = gatewayById(argv.gateway.trim());
      let catalogue = await loadCatalogue();
      let block: LoadBlock | undefined;
      if (argv.scenario !== undefined) {
        const loaded = await loadSuite({ suite: argv.suite, only: [argv.scenario] });
        catalogue = loaded.catalogue;
        const sc = loaded.scenarios.find((x) => x.id === argv.scenario);
        if (!sc) throw new InputError('BG_NO_SCENARIOS', `--scenario ${argv.scenario}: name one scenario by its id, not a pattern; it matches ${loaded.scenarios.map((x) => x.id).join(', ')}.`);
        if (!sc.load) throw new InputError('BG_BAD_FLAG', `--scenario ${sc.id}: ${sc.file} has no load: block, so it does not say how to drive it. Add one (load: { rate: 500/s, duration: 10s, mix: "healthy:99,${sc.fault}:1" }), or give --mix and --rate instead of --scenario.`);
        block = sc.load;
      } else if (argv.suite !== undefined) throw new InputError('BG_BAD_FLAG', `--suite ${argv.suite} is where --scenario is looked up; give --scenario ID too, or drop --suite.`);
      const mix = argv.mix !== undefined ? parseMix(String(argv.mix), catalogue) : (block?.mix ?? parseMix('healthy:1', catalogue));
      const sweepText = argv.sweep ?? block?.sweep;
      const sweep = sweepText === undefined ? undefined : parseSweep(sweepText, mix, catalogue);
      const targets = parseLoadReporters(argv.reporter);
      await checkReportTargets({ targets });
      const userConfig = argv.config === undefined ? undefined : await readUserConfig(argv.config);
      const settings = settingsFrom(argv, adapter.id, mix, block ?? {}, LOAD_DEFAULTS);
      const consoleOnStdout = !targets.some((t) => t.path === undefined && t.id !== 'console');
      const color = useColor(process.stdout);
      const signals = abortOnSignals();
      try {
        if (!sweep) {
          const result = await driveLoad({ settings, adapter, catalogue, userConfig, signal: signals.signal, consoleOnStdout, saveLog: argv['save-log'] });
          if (result === undefined) return interruptedBeforeStart();
          await writeResultReports(result, LOAD_REPORTERS, targets, consoleOnStdout, color, `The load run itself finished: ${result.sent} sent, ${result.errors.count} errors.`);
          process.exitCode = result.interrupted || signals.signal.aborted ? 130 : 0;
          return;
        }
        const rows: Array<{ value: string | number; result: LoadResult }> = [];
        for (const value of sweep.values) {
          if (signals.signal.aborted) break;
          const one = { ...settings, mix: sweptMix(settings.mix, sweep, value) };
          if (consoleOnStdout) process.stdout.write(`sweep ${sweep.param}=${value}: `);
          const result = await driveLoad({ settings: one, adapter, catalogue, userConfig, signal: signals.signal, consoleOnStdout, saveLog: argv['save-log'] === undefined ? undefined : `${argv['save-log']}.${value}` });
          if (result === undefined) break;
          rows.push({ value, result });
        }
        if (rows.length === 0) return interruptedBeforeStart();
        const interrupted = signals.signal.aborted || rows.length < sweep.values.length || rows.some((r) => r.result.interrupted);
        const sweepResult: SweepResult = { format: 'badgateway-load-sweep/1', param: sweep.param, rows, interrupted };
        await writeResultReports(sweepResult, SWEEP_REPORTERS, targets, consoleOnStdout, color, `The sweep itself finished: ${rows.length} runs.`);
        process.exitCode = interrupted ? 130 : 0;
      } finally {
        signals.dispose();
      }
    },
  );
}

function interruptedBeforeStart(): void {
  process.stderr.write('badgateway: load interrupted before it started sending; everything it started was stopped.\n');
  process.exitCode = 130;
}

/**
 * One load run with the command's live progress; undefined when it was interrupted before it
 * started sending (there is nothing to report).
 */
export async function driveLoad(o: { settings: LoadSettings; adapter: GatewayAdapter; catalogue: Catalogue; userConfig?: { file: string; text: string }; signal: AbortSignal; consoleOnStdout: boolean; saveLog?: string; onLogText?: (text: string) => void }): Promise<LoadResult | undefined> {
  const { settings: s } = o;
  // Live progress only on a terminal: a log file or a pipe gets the report alone.
  const live = o.consoleOnStdout && process.stdout.isTTY === true;
  try {
    return await runLoad({
      settings: s,
      adapter: o.adapter,
      catalogue: o.catalogue,
      userConfig: o.userConfig,
      signal: o.signal,
      onStarted: (g) => {
        if (o.consoleOnStdout) process.stdout.write(`${g.id}${g.version ? ` ${g.version}` : ''} (${g.runtime}): ${s.rate}/s for ${s.durationMs / 1000} s, seed ${s.seed}\n`);
      },
      onProgress: live
        ? (p) => {
            const left = Math.max(0, (p.durationMs - p.elapsedMs) / 1000);
            const r = p.elapsedMs > 0 ? p.sent / (p.elapsedMs / 1000) : 0;
            process.stdout.write(`\r\x1b[K  ${r.toFixed(0)}/s · sent ${p.sent} · errors ${p.errors}${p.done ? ` (${((p.errors / p.done) * 100).toFixed(2)} %)` : ''} · ${left.toFixed(1)} s left`);
          }
        : undefined,
      onLogText: async (text) => {
        o.onLogText?.(text);
        if (o.saveLog === undefined) return;
        try {
          await writeFile(o.saveLog, text);
        } catch (err) {
          process.stderr.write(`badgateway: the gateway's log could not be written to ${o.saveLog} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the report follows.\n`);
        }
      },
    });
  } catch (err) {
    if (!o.signal.aborted) throw err;
    return undefined;
  } finally {
    if (live) process.stdout.write('\r\x1b[K');
  }
}

export async function writeResultReports<R>(result: R, reporters: ReadonlyArray<ResultReporter<R>>, targets: readonly LoadTarget[], consoleOnStdout: boolean, color: boolean, done: string): Promise<void> {
  const all = [...targets];
  if (consoleOnStdout && !all.some((t) => t.path === undefined)) all.unshift({ id: 'console', extension: '.txt', reporter: { id: 'console', extension: '.txt' }, spec: 'console' });
  const notices: string[] = [];
  const failures: string[] = [];
  for (const t of all) {
    const text = reporters.find((r) => r.id === t.id)!.render(result, t.path === undefined && color);
    if (t.path === undefined) {
      process.stdout.write(text);
      continue;
    }
    try {
      await writeFile(t.path, text);
      notices.push(`wrote ${t.id} report to ${t.path}`);
    } catch (err) {
      failures.push(`the ${t.id} report could not be written to ${t.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (notices.length) (consoleOnStdout ? process.stdout : process.stderr).write(notices.join('\n') + '\n');
  if (failures.length) throw new BadgatewayError('BG_REPORT_WRITE', `${failures.join('; ')}. ${done} Free space or fix the permissions and run again.`);
}
