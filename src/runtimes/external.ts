/**
 * The external runtime's registry entry: a gateway that is already running, named by its URL,
 * never started, stopped or found by `auto`. What a run does with it (the plan, the upstream it
 * starts or checks, the probes and the log) is src/harness/external.ts.
 */
import { StartError } from '../errors.js';
import type { Runtime } from './runtime.js';

const external: Runtime = {
  kind: 'external',
  async available() {
    return { ok: false, why: 'the external runtime drives a gateway that is already running: run with --runtime external --url URL and the chaos upstream it routes to (--upstream-listen or --upstream-control).' };
  },
  async start() {
    throw new StartError('BG_EXTERNAL_UNREACHABLE', 'the external runtime starts no gateway; it drives one already running (--url).');
  },
};
export default external;
