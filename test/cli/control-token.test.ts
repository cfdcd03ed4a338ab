/**
 * `serve` takes the control API's token from the environment or a file, not from the command line,
 * where every local user reads it in the process list; `--control-token` still works, with a warning.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bg-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const QUIET = ['--no-dns', '--listener-faults', 'none', '--json'];
const TOKEN = 's3cret-token-0123456789';
const NO_STACK = /\n\s+at /;

/** Starts serve, checks the control API wants `token` (401 without, 200 with), and stops it; returns stderr and the command line the OS shows. */
async function serveWithToken(args: string[], env: NodeJS.ProcessEnv = {}, token = TOKEN): Promise<{ stderr: string; cmdline: string }> {
  const cli = startCli(['serve', ...QUIET, ...args], env);
  try {
    await waitForOutput(cli.output, /\}\n/);
    const info = JSON.parse(cli.output().slice(cli.output().indexOf('{')).split('\n')[0]!);
    const url = `${info.control.url}/api/faults`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const cmdline = readFileSync(`/proc/${cli.child.pid}/cmdline`, 'latin1').split('\0').join(' ');
    cli.child.kill('SIGTERM');
    const r = await cli.done;
    expect(r.code).toBe(0);
    return { stderr: r.stderr, cmdline };
  } finally {
    cli.child.kill('SIGKILL');
  }
}

test('--control-token-file: the first line, trimmed, is the token; nothing of it in the process list; no warning at mode 600', { timeout: 30_000 }, async () => {
  const file = join(dir, 'token');
  writeFileSync(file, `  ${TOKEN}  \nsecond line ignored\n`);
  chmodSync(file, 0o600);
  const r = await serveWithToken(['--control-token-file', file]);
  expect(r.cmdline).not.toContain(TOKEN);
  expect(r.stderr).toBe('');
});

test('--control-token-file readable by group or others: it works, and a warning says chmod 600', { timeout: 30_000 }, async () => {
  const file = join(dir, 'token-644');
  writeFileSync(file, `${TOKEN}\n`);
  chmodSync(file, 0o644);
  const r = await serveWithToken(['--control-token-file', file]);
  expect(r.stderr).toBe(`warning: --control-token-file ${file} is readable by every user (mode 0644); chmod 600 ${file} so only its owner can read the token.\n`);
  chmodSync(file, 0o640);
  const g = await serveWithToken(['--control-token-file', file]);
  expect(g.stderr).toMatch(/is readable by its group \(mode 0640\); chmod 600/);
});

test('BADGATEWAY_CONTROL_TOKEN: the token, without a warning', { timeout: 30_000 }, async () => {
  const r = await serveWithToken([], { BADGATEWAY_CONTROL_TOKEN: TOKEN });
  expect(r.cmdline).not.toContain(TOKEN);
  expect(r.stderr).toBe('');
});

test('--control-token still works, with a one-line warning that names the alternatives', { timeout: 30_000 }, async () => {
  const r = await serveWithToken(['--control-token', TOKEN]);
  expect(r.stderr).toBe(
    'warning: --control-token puts the token in the process list, where every local user can read it (ps); set BADGATEWAY_CONTROL_TOKEN or use --control-token-file FILE instead.\n',
  );
});

test('a token file that is missing, empty, blank on its first line or a directory: exit 2, one paragraph, nothing started', { timeout: 60_000 }, async () => {
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  const blank = join(dir, 'blank-first');
  writeFileSync(blank, '\n' + TOKEN + '\n');
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'nope'), /--control-token-file \S+nope: no such file\. Write the token to it first .*or give the right path\./],
    [empty, /--control-token-file \S+empty: the file is empty; put the token on the first line/],
    [blank, /--control-token-file \S+blank-first: its first line is blank; put the token on the first line/],
    [dir, /--control-token-file \S+: that is a directory; give the file that holds the token\./],
  ];
  for (const [file, message] of cases) {
    const r = await runCli(['serve', ...QUIET, '--control-token-file', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(r.stdout).toBe('');
  }
});

test.skipIf(process.getuid?.() === 0)('a token file this user may not read: exit 2, says what to do', async () => {
  const file = join(dir, 'unreadable');
  writeFileSync(file, TOKEN);
  chmodSync(file, 0o000);
  const r = await runCli(['serve', ...QUIET, '--control-token-file', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/this user may not read it/);
});

test('--control-token and --control-token-file together: exit 2, give it once', async () => {
  const file = join(dir, 'both');
  writeFileSync(file, TOKEN);
  const r = await runCli(['serve', ...QUIET, '--control-token', TOKEN, '--control-token-file', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--control-token and --control-token-file were both given; give the token once/);
  expect(r.stdout).toBe('');
});
