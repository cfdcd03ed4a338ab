/**
 * Bad input a new user would try, through the built CLI: each is one paragraph that says what
 * to do, exit 2, no stack trace, and nothing started first (serve prints no listener, run no
 * gateway).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bg-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Exit 2 and one paragraph on stderr matching `message`; nothing on stdout, no stack. */
function expectRefused(r: CliResult, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^badgateway: /);
  expect(r.stderr.trimEnd()).not.toMatch(/\n\s*\n/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

/** serve without the parts a flag test does not need, so a mistake that slipped through would fail fast. */
const SERVE = ['serve', '--no-dns', '--no-control', '--listener-faults', 'none'];

// Each case is a process of its own that exits at once: run them side by side.
describe.concurrent('numbers', () => {
  test.each([
    [['run', '--concurrency', 'abc'], /^badgateway: --concurrency abc is not a whole number: give a whole number from 1 to 1024, the scenarios in flight at once per gateway\.\n$/],
    [['run', '--concurrency', '0'], /^badgateway: --concurrency 0 is out of range: give a whole number from 1 to 1024/],
    [['run', '--concurrency', '-1'], /^badgateway: --concurrency -1 is out of range: give a whole number from 1 to 1024/],
    [['run', '--concurrency', '2.5'], /^badgateway: --concurrency 2\.5 is not a whole number/],
    [['serve', '--port', 'abc'], /^badgateway: --port abc is not a whole number: give a port from 0 to 65535 \(0 picks a free one\)\.\n$/],
    [['serve', '--port', '70000'], /^badgateway: --port 70000 is out of range: give a port from 0 to 65535/],
    [['serve', '--port', '-5'], /^badgateway: --port -5 is out of range: give a port from 0 to 65535/],
    [['serve', '--port', '80', '--port', '81'], /^badgateway: --port was given 2 times \(80, 81\); give it once/],
    [['serve', '--control-port', '70000'], /^badgateway: --control-port 70000 is out of range: give a port from 0 to 65535/],
    [['serve', '--dns-port', 'abc'], /^badgateway: --dns-port abc is not a whole number: give a port/],
    [['serve', '--listener-fault-port', 'connect-refused=70000'], /^badgateway: --listener-fault-port connect-refused=70000 is out of range: give a port from 0 to 65535/],
    [['serve', '--listener-fault-port', 'connect-refused=-5'], /^badgateway: --listener-fault-port connect-refused=-5 is out of range/],
    [['serve', '--listener-fault-port', 'connect-refused'], /^badgateway: --listener-fault-port connect-refused: expected ID=PORT, e\.g\. connect-refused=9001/],
    [['serve', '--listener-fault-port', 'empty-reply=9001'], /^badgateway: --listener-fault-port empty-reply=9001: "empty-reply" is not a listener fault; they are: connect-refused,/],
    [['serve', '--listener-fault-port', 'connect-refused=0', '--listener-fault-port', 'connect-refused=1'], /already has port 0; give each listener fault one port/],
    [['serve', '--seed', 'abc'], /^badgateway: --seed abc is not a whole number: give a whole number, e\.g\. --seed 42\.\n$/],
    [['serve', '--seed', '1.5'], /^badgateway: --seed 1\.5 is not a whole number/],
    [['serve', '--event-buffer-bytes', '100'], /^badgateway: --event-buffer-bytes 100 is out of range: give bytes from 1024 to 1073741824/],
    [['serve', '--dns-tcp-idle-ms', '0'], /^badgateway: --dns-tcp-idle-ms 0 is out of range: give milliseconds from 1 to 2147483647/],
    [['serve', '--dns-max-tcp-connections', 'many'], /^badgateway: --dns-max-tcp-connections many is not a whole number: give a number from 1 to 65536/],
  ])('%j', async (args, message) => {
    expectRefused(await runCli(args), message);
  });
});

test('--image with the process runtime: images belong to the container runtime', async () => {
  const r = await runCli(['run', '--image', 'nginx:1.27', '--runtime', 'process']);
  expectRefused(r, /^badgateway: --image nginx:1\.27 names a container image, but --runtime process runs no container\. Drop --image, or use --runtime container \(or auto\)\.\n$/);
});

describe('serve --unix', () => {
  let holder: Server;
  const live = join(dir, 'live.sock');
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(live, () => resolve()));
    writeFileSync(join(dir, 'plain-file'), 'x');
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  test('in a directory that does not exist says so, not "ports below 1024"', async () => {
    const path = join(dir, 'missing', 's.sock');
    const r = await runCli([...SERVE, '--unix', path]);
    expectRefused(r, new RegExp(`the directory ${join(dir, 'missing')} does not exist\\. Create it \\(mkdir -p ${join(dir, 'missing')}\\) or pick a path in an existing directory\\.`));
    expect(r.stderr).not.toMatch(/1024|privilege/);
  });

  test('where sockets cannot be created says permission denied and where to go instead', async () => {
    const r = await runCli([...SERVE, '--unix', '/proc/bg-test.sock']);
    expectRefused(r, /cannot listen on \/proc\/bg-test\.sock for the chaos upstream \(unix socket\): permission denied creating a socket file in \/proc .*Pick a directory you can write to/);
  });

  test('on a socket another process listens on, or on a plain file, says the path is taken', async () => {
    expectRefused(await runCli([...SERVE, '--unix', live]), /the socket file already exists\. Another process may be listening on it; if none is, it was left behind: remove it/);
    expectRefused(await runCli([...SERVE, '--unix', join(dir, 'plain-file')]), /a file already exists at that path and is not a socket\. Pick another path\./);
  });

  test('with a path longer than a unix socket can have', async () => {
    expectRefused(await runCli([...SERVE, '--unix', join(dir, `${'s'.repeat(120)}.sock`)]), /a unix socket path can be at most 107 bytes and this one has \d+\. Pick a shorter path/);
  });
});

describe('custom faults whose ids clash', () => {
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('one that shadows a built-in fault', async () => {
    const f = file('shadow.yaml', 'id: empty-reply\nsteps:\n  - close\n');
    const results = await Promise.all([SERVE, ['faults'], ['run']].map((cmd) => runCli([...cmd, '--faults-file', f])));
    for (const r of results) {
      expectRefused(r, new RegExp(`^badgateway: ${f}:1:5: fault id "empty-reply" is already taken by a built-in fault\\. A custom fault cannot replace a built-in one; give yours another id, e\\.g\\. my-empty-reply\\.\\n$`));
    }
  });

  test('twice in one file', async () => {
    const f = file('twice.yaml', 'faults:\n  - id: mine\n    steps: [close]\n  - id: other\n    steps: [close]\n  - id: mine\n    steps: [reset]\n');
    expectRefused(await runCli([...SERVE, '--faults-file', f]), new RegExp(`^badgateway: ${f}:6:9: fault id "mine" is already used in this file, at ${f}:2:9; give each fault its own id\\.\\n$`));
  });

  test('in two files, and one file given twice', async () => {
    const a = file('a.yaml', 'id: mine\nsteps: [close]\n');
    const b = file('b.yaml', '# another\nid: mine\nsteps: [reset]\n');
    expectRefused(await runCli([...SERVE, '--faults-file', a, '--faults-file', b]), new RegExp(`^badgateway: ${b}:2:5: fault id "mine" is already taken by the custom fault at ${a}:1:5\\. Fault ids must be unique across every fault file; rename one of them\\.\\n$`));
    expectRefused(await runCli(['faults', '--faults-file', a, '--faults-file', a]), /fault "mine" was loaded twice: the same fault file was given twice\. Give each fault file once\./);
  });

  test('a fault that asks for more bytes than a step may send is bad input, not a bug', async () => {
    const f = file('huge.yaml', 'id: too-big\nsteps:\n  - write: { repeat: "abcdefghij", times: 200000000 }\n');
    expectRefused(await runCli(['faults', '--faults-file', f]), new RegExp(`^badgateway: ${f}:3:\\d+: a step sends at most 1073741824 bytes \\(1 GiB\\); this repeat makes 10 × 200000000`));
  });
});

describe.concurrent('sharding and merge-reports', () => {
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test.each([
    [['run', '--shard', '3/2'], /^badgateway: --shard 3\/2: the shard must be from 1 to 2 \(shards count from 1, e\.g\. --shard 1\/2 to --shard 2\/2\)\.\n$/],
    [['run', '--shard', '0/4'], /^badgateway: --shard 0\/4: the shard must be from 1 to 4 /],
    [['run', '--shard', 'a/b'], /^badgateway: --shard "a\/b" is not k\/n: write two whole numbers, e\.g\. --shard 2\/4 runs the second of four parts; give each CI job its own k from 1 to n and the same n\.\n$/],
    [['run', '--shard', '1/4', '--shard', '2/4'], /^badgateway: --shard was given 2 times \(1\/4, 2\/4\); give it once, e\.g\. --shard 2\/4\.\n$/],
    [['merge-reports'], /^badgateway: Not enough non-option arguments/],
  ])('%j', async (args, message) => {
    expectRefused(await runCli(args), message);
  });

  test.each([
    ['not JSON', 'report.xml', '<testsuites/>', /is not JSON \(Unexpected token .*\); merge-reports reads the JSON reports `badgateway run --reporter json:FILE` writes\.\n$/],
    ['another tool\'s JSON', 'jest.json', '{"numTotalTests": 3}', /is JSON but not a badgateway report \(it has no "format": "badgateway-report"\)/],
    ['a report of another format version', 'v9.json', '{"format": "badgateway-report", "formatVersion": 9}', /is a badgateway report of format version 9, and this badgateway reads version 1\./],
    ['a report from before reports had a format version', 'old.json', '{"summary": {"passed": 1, "failed": 0}, "runs": []}', /is a badgateway JSON report from a version before reports carried a format version/],
  ])('merge-reports with %s', async (_, name, text, message) => {
    const f = file(name, text);
    const r = await runCli(['merge-reports', f, '--reporter', 'junit']);
    expectRefused(r, new RegExp(`^badgateway: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${message.source}`));
  });

  test('merge-reports with a file that is not there', async () => {
    const missing = join(dir, 'shard-9.json');
    expectRefused(await runCli(['merge-reports', missing]), new RegExp(`^badgateway: merge-reports: ${missing} does not exist\\. Name the JSON report each shard wrote \\(badgateway run --shard k/n --reporter json:FILE\\)\\.\\n$`));
  });

  test('merge-reports with a folder', async () => {
    expectRefused(await runCli(['merge-reports', dir]), /^badgateway: merge-reports: \S+ is a folder\. /);
  });
});
