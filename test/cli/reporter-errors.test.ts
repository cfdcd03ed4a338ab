/**
 * `--reporter` mistakes are found before anything starts: exit 2, one paragraph that says
 * what to write instead, no stack, and no gateway started (stdout stays empty: a run would
 * print its header there first).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-reporter-errors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A run that would start nginx if the flag got past the check. */
const run = (...reporter: string[]) => runCli(['run', '--runtime', 'process', '--only', 'healthy', ...reporter.flatMap((r) => ['--reporter', r])]);

function expectRefused(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  // One paragraph: the message and nothing after it.
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}

test('a file in a folder that does not exist', async () => {
  const r = await run('junit:/missing/dir/r.xml');
  expectRefused(r, /^badgateway: --reporter junit:\/missing\/dir\/r\.xml: the folder \/missing\/dir does not exist.*mkdir -p \/missing\/dir/);
});

test('a path that is a folder', async () => {
  const folder = join(dir, 'out');
  await mkdir(folder, { recursive: true });
  const r = await run(`html:${folder}`);
  expectRefused(r, new RegExp(`${folder} is a folder, and the html report is one file\\. Name a file in it, e\\.g\\. --reporter html:${folder}/badgateway\\.html`));
});

test('a path under a file, as if the file were a folder', async () => {
  const file = join(dir, 'plain-file');
  await writeFile(file, 'x');
  const r = await run(`json:${file}/r.json`);
  expectRefused(r, new RegExp(`${file} is a file, not a folder`));
});

test('an empty path after the colon, for console and for any reporter', async () => {
  expectRefused(await run('console:'), /--reporter "console:" has an empty path after the colon\. Name the file \(e\.g\. console:badgateway\.txt\), or leave out the colon/);
  expectRefused(await run('console', 'markdown:'), /--reporter "markdown:" has an empty path.*markdown:badgateway\.md/);
  expectRefused(await run('junit: '), /--reporter "junit:" has an empty path/);
});

test('unknown reporter names, with the closest one (by name or by file type)', async () => {
  expectRefused(await run('xml'), /unknown reporter "xml" \(closest: junit\); use console, json, junit, markdown, html, github/);
  expectRefused(await run('jsn:r.json'), /unknown reporter "jsn" \(closest: json\)/);
});

test('two reports on stdout, or two in one file', async () => {
  expectRefused(await run('json', 'junit'), /--reporter json and junit would both print on stdout.*--reporter junit:badgateway\.xml/);
  const f = join(dir, 'same.out');
  expectRefused(await run(`json:${f}`, `junit:${f}`), new RegExp(`both write ${f}; the second would overwrite the first`));
});

test.skipIf(process.getuid?.() === 0)('a folder this user may not write', async () => {
  const locked = join(dir, 'locked');
  await mkdir(locked, { recursive: true });
  await chmod(locked, 0o555);
  expectRefused(await run(`junit:${locked}/r.xml`), new RegExp(`may not create files in ${locked}`));
});
