/**
 * One suite through several versions of one gateway: each version is a container image (or the
 * local binary), run one after another (or, asked, all at once like several gateways in one run,
 * behind one start barrier), and the result is the versions report: which scenarios the
 * versions answer differently.
 *
 * One after another by default because the report is a diff, and a diff is only as good as its
 * noise floor: every version's chaos side plays its delays on this one event loop. Measured on
 * 2 cores at a load average of 15 to 18 (other work), the built-in suite through nginx 1.22.1
 * and 1.30.6, 5 runs each way: at once took 20.6 s (median; 14.7 to 28.1), one after another
 * 26.8 s (25.4 to 33.2); at once, 2 of 5 runs failed timing expectations (slow-response-under-
 * timeout on both versions; once 15 cases, and a healthy-by-dns-name 504 that showed as a
 * difference), one after another none did, and every run found the same three differences.
 */
import { InputError } from '../errors.js';
import { gatewayById } from '../gateways/index.js';
import { runSuite as runHarness, type GatewayInstance, type ProgressListener, type SuiteResult } from '../harness/run.js';
import type { Timeouts } from '../harness/execute.js';
import { versionsReport, type VersionsReport } from '../report/versions.js';
import { loadSuite, type LoadedSuite, type LoadSuiteOptions } from './suite.js';

export interface RunVersionsOptions extends LoadSuiteOptions {
  /** One gateway id. */
  readonly gateway: string;
  /** Container images of that gateway, one per version (e.g. badgateway/nginx:bookworm, badgateway/nginx:sid). */
  readonly images: readonly string[];
  /** One more column: the gateway's binary on this host (process runtime). */
  readonly local?: boolean;
  readonly loaded?: LoadedSuite;
  /** Scenarios in flight at once per version. Default 64. */
  readonly concurrency?: number;
  /** All versions at once (one start barrier) instead of one after another: faster, noisier on a busy machine. */
  readonly parallel?: boolean;
  readonly timeouts?: Partial<Timeouts>;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressListener;
}

/** The versions run, checked before anything starts: one gateway, at least two columns, no image twice. */
export function versionInstances(opts: Pick<RunVersionsOptions, 'gateway' | 'images' | 'local'>): GatewayInstance[] {
  const adapter = gatewayById(opts.gateway.trim());
  const images = opts.images.map((i) => i.trim());
  const empty = images.findIndex((i) => i === '');
  if (empty !== -1) throw new InputError('BG_BAD_FLAG', `--image number ${empty + 1} is empty; name a container image of ${adapter.id}, e.g. ${adapter.localImage}.`);
  const twice = images.find((img, i) => images.indexOf(img) !== i);
  if (twice !== undefined) throw new InputError('BG_BAD_FLAG', `--image ${twice} is named twice; each image is one column. Name each version's image once.`);
  // An image reference has no "=": this is run's GATEWAY=IMAGE form.
  const assigned = images.find((img) => img.includes('='));
  if (assigned !== undefined) throw new InputError('BG_BAD_FLAG', `--image ${assigned}: versions runs one gateway (--gateway ${adapter.id}), so give the image alone, e.g. --image ${assigned.slice(assigned.indexOf('=') + 1)}.`);
  const columns = images.length + (opts.local ? 1 : 0);
  if (columns < 2) {
    const given = images.length === 1 ? `only one version (--image ${images[0]})` : 'no version';
    throw new InputError(
      'BG_BAD_FLAG',
      `versions compares at least two versions of ${adapter.id}, and was given ${given}. Name each version's image with --image (repeatable), e.g. --image ${adapter.localImage} --image ${adapter.localImage.replace(/:[^:]*$/, ':sid')}, or add --local for the ${adapter.binary} on this host.`,
    );
  }
  return [...images.map((image): GatewayInstance => ({ adapter, runtime: 'container', image })), ...(opts.local ? [{ adapter, runtime: 'process' as const }] : [])];
}

export async function runVersions(opts: RunVersionsOptions): Promise<VersionsReport> {
  const instances = versionInstances(opts);
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) {
    throw new InputError('BG_BAD_OPTION', `concurrency must be a whole number of at least 1 (scenarios in flight per version), got ${opts.concurrency}.`);
  }
  const { scenarios, catalogue } = opts.loaded ?? (await loadSuite(opts));
  const run = (list: readonly GatewayInstance[]) =>
    runHarness({ scenarios, gateways: [], instances: list, catalogue, concurrency: opts.concurrency, timeouts: opts.timeouts, signal: opts.signal, progress: opts.progress });
  if (opts.parallel) return versionsReport(await run(instances));
  const started = performance.now();
  const parts: SuiteResult[] = [];
  for (const i of instances) parts.push(await run([i]));
  const sum = (k: 'passed' | 'failed' | 'unchecked' | 'skipped') => parts.reduce((n, p) => n + p[k], 0);
  return versionsReport({ runs: parts.flatMap((p) => p.runs), durationMs: Math.round(performance.now() - started), passed: sum('passed'), failed: sum('failed'), unchecked: sum('unchecked'), skipped: sum('skipped') });
}
