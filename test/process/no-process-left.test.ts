/**
 * No process left behind: a run with supervised backends in flight (a frozen one, one in its
 * restart gap, one draining) that is aborted, and a session abandoned the way the CLI does when
 * it must exit at once, leave no backend child, no gateway and no file in the run's TMPDIR.
 * Every backend carries the run directory on its command line, so `pgrep -f <tmp>` finds any
 * that survived.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { gatewayById } from '../../src/gateways/index.js';
import { startSession } from '../../src/harness/execute.js';
import { planRun } from '../../src/harness/plan.js';
import { runSuite } from '../../src/harness/run.js';
import { findBinary } from '../../src/runtimes/process.js';
import { leftIn, processesNaming, usePrivateTmpdir } from '../helpers/interrupt.js';
import { builtinScenarios } from '../helpers/suite.js';

const nginx = await findBinary('nginx');
const IN_FLIGHT = ['healthy', 'process-freeze-long', 'process-crash-restart-window', 'process-drain-in-flight'];

/** Waits for pgrep to find nothing naming `dir` (a SIGKILLed child is gone within milliseconds, but not synchronously). */
async function noneNaming(dir: string, ms = 3000): Promise<string> {
  const end = performance.now() + ms;
  let left = processesNaming(dir);
  while (left !== '' && performance.now() < end) {
    await sleep(50);
    left = processesNaming(dir);
  }
  return left;
}

describe('no supervised backend outlives its run', () => {
  // Every prefix and run directory (named on every backend's command line) lands here.
  const tmp = usePrivateTmpdir('badgateway-test-proc-');

  test.skipIf(nginx === undefined && !process.env.CI)('an aborted run kills every backend, frozen or restarting, and removes its files', { timeout: 60_000 }, async () => {
    const { catalogue, scenarios } = await builtinScenarios(IN_FLIGHT);
    const ac = new AbortController();
    let midRun = '';
    const run = runSuite({
      scenarios,
      gateways: [gatewayById('nginx')],
      catalogue,
      runtime: 'process',
      signal: ac.signal,
      progress: {
        onProbed: ({ scenario }) => {
          if (scenario.id !== 'healthy') return;
          midRun = processesNaming(tmp.dir);
          ac.abort();
        },
      },
    });
    await expect(run).rejects.toThrow();
    // The backends were there mid-run (two per process scenario: the one listening and its standby)...
    expect(midRun.match(/badgateway-backend:/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    // ...and nothing is left now.
    expect(await noneNaming(tmp.dir)).toBe('');
    expect(await leftIn(tmp.dir)).toEqual([]);
  });

  test.skipIf(nginx === undefined && !process.env.CI)('abandon() kills every backend and the gateway synchronously, and removes the run directory', { timeout: 60_000 }, async () => {
    const { catalogue, scenarios } = await builtinScenarios(IN_FLIGHT.slice(1));
    const session = await startSession(planRun(gatewayById('nginx'), scenarios, { userConfig: false }), { catalogue, runtime: 'process' });
    // A frozen backend in the middle of its request, the way an exiting CLI would find it.
    const frozen = session.probe(scenarios.find((s) => s.id === 'process-freeze-long')!);
    await sleep(300);
    expect(processesNaming(tmp.dir)).toMatch(/badgateway-backend:/);
    session.abandon();
    expect(await noneNaming(tmp.dir)).toBe('');
    await frozen;
    expect(await leftIn(tmp.dir)).toEqual([]);
  });
});
