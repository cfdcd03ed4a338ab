/** An unknown `reason:` in a scenario stops `run` before any gateway starts (it used to fail every verdict at the end, exit 1). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-cli-reason-'));
  await writeFile(join(dir, 'ok.yaml'), 'description: a healthy upstream\nfault: healthy\nexpect:\n  nginx:\n    status: 200\n    reason: none\n');
  await writeFile(join(dir, 'reset.yaml'), 'description: a reset before the response\nfault: reset-after-request\nexpect:\n  nginx:\n    status: 502\n    reason: [upstream-reset, upstream-rest]\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('run: exit 2 with file:line:col and the closest reasons; nothing started, nothing printed on stdout', async () => {
  const started = Date.now();
  const r = await runCli(['run', '--suite', dir, '--gateway', 'nginx', '--runtime', 'process']);
  expect(r.code).toBe(2);
  // The console reporter prints progress and results on stdout once the gateway runs.
  expect(r.stdout).toBe('');
  const file = join(dir, 'reset.yaml');
  expect(r.stderr.startsWith(`badgateway: ${file}:6:30: unknown reason "upstream-rest". Closest: upstream-reset, `)).toBe(true);
  expect(r.stderr).toContain('`badgateway explain "<log line>"` shows the reason a log line gives.');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(Date.now() - started).toBeLessThan(10_000);
});
