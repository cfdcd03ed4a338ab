/**
 * `badgateway run` end to end, as a user runs it: a failing expectation, an
 * interrupted run, a user's own config, reports.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { dockerImagePresent } from '../helpers/docker.js';
import { interruptMidRun } from '../helpers/interrupt.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a wrong expectation', () => {
  test('fails the run with a readable diff of expected and observed, and the gateway log line', { timeout: 30_000 }, async () => {
    const suite = join(dir, 'wrong');
    await rm(suite, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(suite));
    await writeFile(
      join(suite, 'empty-reply-wrong.yaml'),
      'description: deliberately wrong\nfault: empty-reply\nexpect:\n  nginx:\n    status: 504\n    reason: read-timeout\n    body: none\n',
    );
    const junit = join(dir, 'report.xml');
    const r = await runCli(['run', '--runtime', 'process', '--suite', suite, '--reporter', 'console', '--reporter', `junit:${junit}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ nginx empty-reply-wrong/);
    expect(r.stdout).toMatch(/status\s+expected 504\s+observed 502/);
    expect(r.stdout).toMatch(/reason\s+expected read-timeout\s+observed upstream-closed-early/);
    expect(r.stdout).toMatch(/body\s+expected none\s+observed complete/);
    expect(r.stdout).toMatch(/\[error\].*upstream prematurely closed connection while reading response header from upstream/);
    expect(r.stdout).toMatch(/0 passed, 1 failed/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testcase classname="badgateway.nginx" name="empty-reply-wrong"/);
    expect(xml).toMatch(/<failure message="status: expected 504, observed 502; body: expected none, observed complete; reason: expected read-timeout, observed upstream-closed-early"/);
    expect(xml).toMatch(/upstream prematurely closed connection/);
  });
});

describe('bad input', () => {
  test('an invalid scenario file names file:line:column, exit 2, no stack', async () => {
    const suite = join(dir, 'bad');
    await import('node:fs/promises').then((fs) => fs.mkdir(suite, { recursive: true }));
    await writeFile(join(suite, 'bad.yaml'), 'description: x\nfault: empty-reply\nexpect:\n  nginx:\n    status: 502\n    colour: red\n');
    const r = await runCli(['run', '--runtime', 'process', '--suite', suite]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(suite, 'bad.yaml')}:6:5: expect.nginx: unknown key "colour"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('an unknown fault in a scenario lists the closest ids', async () => {
    const suite = join(dir, 'unknown-fault');
    await import('node:fs/promises').then((fs) => fs.mkdir(suite, { recursive: true }));
    await writeFile(join(suite, 's.yaml'), 'description: x\nfault: empty-replay\nexpect: {}\n');
    const r = await runCli(['run', '--suite', suite]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/s\.yaml:2:8: unknown fault "empty-replay". Closest: empty-reply/);
  });

  test('an unknown gateway and an unknown reporter', async () => {
    const a = await runCli(['run', '--gateway', 'ngnix']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown gateway "ngnix". Known: nginx/);
    const b = await runCli(['run', '--reporter', 'xml']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown reporter/);
  });
});

describe('an interrupted run leaves nothing behind', () => {
  test('Ctrl-C (SIGINT), process runtime: no nginx process, temp dir or socket file', { timeout: 60_000 }, async () => {
    await interruptMidRun({ gateway: 'nginx', runtime: 'process', signal: 'SIGINT' });
  });

  const why = dockerImagePresent('badgateway/nginx:bookworm');
  test.skipIf(why !== undefined && !process.env.CI)('SIGTERM, container runtime: no container either', { timeout: 90_000 }, async () => {
    expect(why).toBeUndefined();
    await interruptMidRun({ gateway: 'nginx', runtime: 'container', signal: 'SIGTERM' });
  });
});

describe('the user\'s own config', () => {
  test('--config with proxy_next_upstream and a healthy backup shows which faults the retry hides', { timeout: 60_000 }, async () => {
    const json = join(dir, 'next-upstream.json');
    const r = await runCli(['run', '--runtime', 'process', '--config', 'test/fixtures/nginx-next-upstream.conf', '--reporter', 'console', '--reporter', `json:${json}`]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8'));
    const cases = new Map<string, { observed: { status: unknown; body: string }; defaultConfig?: { change: string } }>(
      report.runs[0].cases.map((c: { scenario: string }) => [c.scenario, c]),
    );
    const seen = (id: string) => cases.get(id)!;
    // A failure before any byte reached the client: the retry on the backup hides it.
    for (const id of ['empty-reply', 'reset-after-request', 'header-too-big', 'header-nul-byte', 'never-respond', 'partial-head-then-close']) {
      expect(seen(id).observed.status, id).toBe(200);
      expect(seen(id).defaultConfig?.change, id).toBe('hidden');
    }
    // Mid-body failures cannot be retried: the client already has the status line.
    for (const id of ['body-cut-fin-length', 'body-cut-reset-chunked']) {
      expect(seen(id).observed).toMatchObject({ status: 200, body: 'truncated' });
      expect(seen(id).defaultConfig?.change, id).toBe('same');
    }
    // nginx takes an HTTP/0.9 reply as a success, so proxy_next_upstream never fires.
    expect(seen('http09-reply').observed.status).toBe('no-status-line');
    // Listener and DNS faults need their own addresses: reported as skipped, with why.
    expect(report.runs[0].skipped.map((s: { scenario: string }) => s.scenario)).toContain('connect-refused');
    expect(r.stdout).toMatch(/Your config hides \d+ faults that the default nginx config shows the client: .*empty-reply/);
  });

  test('a config nginx rejects: exit 2 with nginx\'s own words, and nothing left behind', { timeout: 30_000 }, async () => {
    const tmp = await mkdtemp(join(dir, 'tmp-broken-'));
    const conf = join(dir, 'broken.conf');
    await writeFile(conf, 'events {}\nhttp { server { listen {{listen}}; location / { proxy_pass http://{{upstream}}; proxy_bogus on; } } }\n');
    const r = await runCli(['run', '--runtime', 'process', '--config', conf], { TMPDIR: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nginx rejected its configuration/);
    expect(r.stderr).toMatch(/unknown directive "proxy_bogus"/);
    expect(await readdir(tmp)).toEqual([]);
  });

  test('a --config over the input size limit is refused before it is read, exit 2', async () => {
    const conf = join(dir, 'huge.conf');
    await writeFile(conf, `events {}\n# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const r = await runCli(['run', '--runtime', 'process', '--config', conf]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--config: .*huge\.conf is \d+ bytes, over the limit of 1048576 bytes/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('a config without {{upstream}} is refused with what to write', async () => {
    const conf = join(dir, 'no-upstream.conf');
    await writeFile(conf, 'events {}\nhttp { server { listen {{listen}}; } }\n');
    const r = await runCli(['run', '--runtime', 'process', '--config', conf]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no \{\{upstream\}\} placeholder.*proxy_pass http:\/\/\{\{upstream\}\}/);
  });
});
