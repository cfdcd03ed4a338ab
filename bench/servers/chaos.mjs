#!/usr/bin/env node
/**
 * The chaos upstream with every exchange fault at /<fault-id> (no listener faults, no DNS),
 * alone in its process, for the soak and held-connections benchmarks.
 *
 *   node [--expose-gc] bench/servers/chaos.mjs [--options JSON] [--exit-on-stdin-close]
 *
 * --options is passed to startUpstream (e.g. '{"maxConnections":50000}'). Prints
 * {"port":N,"pid":P} once listening; exits on SIGTERM. SIGUSR2 runs a full garbage collection
 * (with --expose-gc), so a benchmark can read the resident set without garbage V8 has not
 * collected yet.
 */
import { announce, exitOn, fail } from './lifecycle.mjs';

let startUpstream;
try {
  ({ startUpstream } = await import('../../dist/index.js'));
} catch (err) {
  fail('cannot load dist/index.js (run `npm run build` first)', err);
}

const i = process.argv.indexOf('--options');
let options = {};
try {
  if (i !== -1) options = JSON.parse(process.argv[i + 1]);
} catch (err) {
  fail('--options is not JSON', err);
}

process.on('SIGUSR2', () => globalThis.gc?.());

try {
  const up = await startUpstream({ host: '127.0.0.1', listenerFaults: [], dns: false, ...options });
  exitOn(() => up.close());
  announce(up.http.port, { server: 'badgateway upstream (every fault)' });
} catch (err) {
  fail('the chaos upstream failed to start', err);
}
