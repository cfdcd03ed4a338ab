/**
 * An interrupted run with php-fpm and gunicorn backends leaves no process, socket or temp dir
 * behind: SIGINT while gunicorn's slow body is still streaming.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { backendMissing } from '../../src/backends/index.js';
import { startCli, waitForOutput } from '../helpers/cli.js';
import { leftIn, processesNaming } from '../helpers/interrupt.js';

const missing = (await backendMissing('gunicorn')) ?? (await backendMissing('php-fpm'));

test.skipIf(missing !== undefined && process.env.CI !== 'true')('SIGINT mid-scenario: no backend process, socket or directory left', { timeout: 60_000 }, async () => {
  expect(missing).toBeUndefined();
  const tmp = await mkdtemp(join(tmpdir(), 'badgateway-test-backends-'));
  try {
    const cli = startCli(['run', '--gateway', 'nginx', '--runtime', 'process', '--only', 'gunicorn-worker-timeout', '--only', 'php-fpm-master-stopped', '--only', 'php-fpm-request-terminate-timeout'], { TMPDIR: tmp });
    await waitForOutput(cli.output, /nginx \d+\.\d+\.\d+ \(process\): \d+ scenarios/, 30_000);
    // php-fpm-master-stopped is done at once; gunicorn's body streams for another second or more.
    await waitForOutput(cli.output, /· nginx php-fpm-master-stopped /, 10_000);
    expect(processesNaming(tmp)).toMatch(/gunicorn|php-fpm/);
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(await leftIn(tmp)).toEqual([]);
    expect(processesNaming(tmp)).toBe('');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
