/**
 * Several gateways in one run, and one of them fails to start after another is
 * already up: the run fails with that gateway's error, but only once the other
 * gateway has been stopped and every prefix, run directory and socket removed.
 * The failing gateway is `node` checking a config that takes a while and then
 * fails, so the test needs nothing but nginx.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { BadgatewayError } from '../../src/errors.js';
import type { GatewayAdapter } from '../../src/gateways/gateway.js';
import { gatewayById } from '../../src/gateways/index.js';
import { runSuite } from '../../src/harness/run.js';
import { findBinary } from '../../src/runtimes/process.js';
import { processesNaming, usePrivateTmpdir } from '../helpers/interrupt.js';
import { builtinScenarios } from '../helpers/suite.js';

/** A gateway whose config test fails after `delayMs`: by then the others have started. */
function failsLate(delayMs: number): GatewayAdapter {
  return {
    id: 'lateflop',
    binary: 'node',
    installHint: 'it is the node running the tests',
    defaultImage: 'none',
    localImage: 'none',
    versionArgs: ['--version'],
    parseVersion: (o) => /v(\d+\.\d+\.\d+)/.exec(o)?.[1],
    render: () => ({ files: { 'flop.cjs': '' }, main: 'flop.cjs' }),
    args: (_p, config) => [config],
    testArgs: () => ['-e', `setTimeout(() => { console.error('lateflop: this config is wrong'); process.exit(1); }, ${delayMs})`],
    logFiles: [],
    parseLogLine: () => undefined,
    reasons: [],
    fromUserConfig: () => {
      throw new Error('not used');
    },
  };
}

const nginx = await findBinary('nginx');

describe('one gateway of several fails to start', () => {
  // Every prefix and run directory of this run lands here.
  const tmp = usePrivateTmpdir('badgateway-test-flop-');

  test.skipIf(nginx === undefined && !process.env.CI)('the run fails with its error after the other gateway is stopped and everything is removed', { timeout: 30_000 }, async () => {
    const { catalogue, scenarios } = await builtinScenarios(['healthy', 'never-respond', 'slow-body']);
    const ready: string[] = [];
    const probed: string[] = [];
    const run = runSuite({
      scenarios,
      gateways: [gatewayById('nginx'), failsLate(1500)],
      catalogue,
      runtime: 'process',
      progress: { onGatewayReady: (g) => ready.push(g.gateway), onProbed: (p) => probed.push(`${p.gateway} ${p.scenario.id}`) },
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadgatewayError);
    expect((err as BadgatewayError).message).toMatch(/lateflop rejected its configuration[\s\S]*this config is wrong/);
    // nginx was up before the failure, and was never probed: no gateway is probed until all have started.
    expect(ready).toEqual(['nginx']);
    expect(probed).toEqual([]);
    // By the time the error arrives, nginx is gone and nothing is left in TMPDIR.
    expect(processesNaming(tmp.dir)).toBe('');
    expect(await readdir(tmp.dir)).toEqual([]);
  });
});
