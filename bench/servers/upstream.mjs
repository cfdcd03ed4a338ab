#!/usr/bin/env node
/**
 * The chaos upstream in healthy mode (200, "ok\n", Content-Type: text/plain,
 * keep-alive), alone in its process, for the benchmarks.
 *
 *   node bench/servers/upstream.mjs [--port N] [--exit-on-stdin-close]
 *
 * Prints {"port":N,"pid":P} on stdout once listening; exits on SIGTERM.
 */
import { announce, exitOn, fail } from './lifecycle.mjs';

let startUpstream;
try {
  ({ startUpstream } = await import('../../dist/index.js'));
} catch (err) {
  fail('cannot load dist/index.js (run `npm run build` first)', err);
}

const i = process.argv.indexOf('--port');
const port = i === -1 ? 0 : Number(process.argv[i + 1]);

try {
  const up = await startUpstream({ host: '127.0.0.1', port, listenerFaults: [], dns: false });
  exitOn(() => up.close());
  announce(up.http.port, { server: 'badgateway upstream (healthy)' });
} catch (err) {
  fail('the chaos upstream failed to start', err);
}
