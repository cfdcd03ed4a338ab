/**
 * The generator on a thread of its own (worker_threads): the chaos upstream keeps the main
 * thread's event loop, so neither one's work delays the other's timers, and a response's
 * arrival is timed when it arrives, not when an upstream busy with its fault scripts lets the
 * loop get to it. The fault draw happens here, from the seed, in request order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runGenerator } from './generator.js';
import { MixSampler } from './mix.js';
import { STOP, type WorkerInput } from './worker-protocol.js';

const port = parentPort!;
const input = workerData as WorkerInput;
const ctl = new AbortController();
port.on('message', (m) => {
  if (m === STOP) ctl.abort();
});
const sampler = new MixSampler(input.mix, input.seed);
const result = await runGenerator({
  host: input.host,
  port: input.port,
  rate: input.rate,
  durationMs: input.durationMs,
  connections: input.connections,
  timeoutMs: input.timeoutMs,
  requests: input.requests.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)),
  pick: () => sampler.next(),
  signal: ctl.signal,
  onProgress: (p) => port.postMessage({ type: 'progress', progress: p }),
});
port.postMessage({ type: 'result', result });
port.close();
