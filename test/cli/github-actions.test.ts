/**
 * Under GitHub Actions, as the runner sets a step up (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY,
 * GITHUB_WORKSPACE): a failed case becomes an ::error annotation on its scenario file, and
 * the markdown matrix is appended to the job summary. A real nginx runs a suite with one
 * expectation wrong on purpose.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { escapeData, escapeProperty } from '../../src/report/github.js';
import { runCli } from '../helpers/cli.js';

let workspace: string;
beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'badgateway-gha-'));
  // A file name with a comma: GitHub would end the file= property there unless it is escaped.
  await mkdir(join(workspace, 'gateway-tests'));
  await writeFile(
    join(workspace, 'gateway-tests', 'empty-reply,wrong.yaml'),
    'id: empty-reply-wrong\ndescription: "deliberately wrong: nginx answers 502 here, not 504"\nfault: empty-reply\nexpect:\n  nginx:\n    status: 504\n',
  );
  await writeFile(join(workspace, 'gateway-tests', 'healthy.yaml'), 'description: the control\nfault: healthy\nexpect:\n  nginx:\n    status: 200\n');
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

test('workflow-command escaping: % CR LF in messages, and : , as well in properties', () => {
  expect(escapeData('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext: a, b');
  expect(escapeProperty('dir/a,b: c%')).toBe('dir/a%2Cb%3A c%25');
});

test('a failed case is an ::error on its scenario file, and the matrix lands in the job summary', { timeout: 60_000 }, async () => {
  const summary = join(workspace, 'step-summary.md');
  // The runner's file may already hold an earlier step's summary: it is appended to, never replaced.
  await writeFile(summary, '## an earlier step\n\n');
  const junit = join(workspace, 'junit.xml');
  const r = await runCli(
    ['run', '--runtime', 'process', '--suite', join(workspace, 'gateway-tests'), '--only', 'empty-reply-wrong', '--only', 'healthy', '--reporter', `junit:${junit}`],
    { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: workspace },
  );
  expect(r.code, r.stderr).toBe(1);

  const errors = r.stdout.split('\n').filter((l) => l.startsWith('::'));
  expect(errors).toHaveLength(1);
  const [, props, message] = /^::error (.*?)::(.*)$/.exec(errors[0]!)!;
  // Relative to the workspace (so GitHub links it), the comma escaped.
  expect(props).toMatch(/^file=gateway-tests\/empty-reply%2Cwrong\.yaml,title=empty-reply-wrong on nginx 1\.\d+\.\d+ \(process\)$/);
  const lines = message!.split('%0A');
  expect(lines[0]).toBe('status: expected 504, observed 502');
  expect(lines.some((l) => /^log: .*upstream prematurely closed connection/.test(l))).toBe(true);
  expect(message).not.toMatch(/[\r\n]/);

  const md = await readFile(summary, 'utf8');
  expect(md.startsWith('## an earlier step\n\n## badgateway: 1 passed, 1 failed')).toBe(true);
  expect(md).toMatch(/\| empty-reply-wrong \| ❌ 502/);
  expect(md).toMatch(/\| healthy \| ✅ 200/);
  expect(md).toContain('Ran nginx 1.');
  // The console summary and the file's path are still on stdout for the log.
  expect(r.stdout).toMatch(/1 passed, 1 failed in /);
  expect(r.stdout).toContain(`wrote junit report to ${junit}`);
});

test('outside GitHub Actions neither annotations nor a summary', { timeout: 60_000 }, async () => {
  const summary = join(workspace, 'not-written.md');
  const r = await runCli(['run', '--runtime', 'process', '--suite', join(workspace, 'gateway-tests'), '--only', 'empty-reply-wrong'], { GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: summary });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).not.toMatch(/^::error/m);
  await expect(readFile(summary, 'utf8')).rejects.toThrow(/ENOENT/);
});
