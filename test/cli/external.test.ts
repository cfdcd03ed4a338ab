/**
 * `--runtime external`, `serve --suite` and `judge`, through the built CLI and a real nginx
 * (Debian bookworm's 1.22.1, where the built-in nginx expectations were measured) that this test
 * starts by itself with its own config: /s/ proxied to a fixed upstream address, no adapter
 * involved. The timeouts are the adapter's (1 s), so nginx's expectations hold as measured.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/upstream/listen.js';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';

// Exchange scenarios whose verdicts do not race a timeout, and one of each kind the external topology cannot express.
const EXCHANGE = ['healthy', 'empty-reply', 'reset-after-request', 'body-cut-fin-length'];
const OUTSIDE: Record<string, RegExp> = {
  'connect-refused': /a listener fault needs an address of its own; .*--listener-url connect-refused=URL/,
  'dns-nxdomain': /a dns fault needs a DNS name of its own; .*--listener-url dns-nxdomain=URL/,
  'healthy-unix-socket': /reaches the upstream by unix; an external gateway routes/,
  'pool-backup': /a pool needs an address for each of its servers/,
  'fcgi-healthy': /a FastCGI fault needs a FastCGI upstream/,
};
const ONLY = [...EXCHANGE, ...Object.keys(OUTSIDE)].flatMap((id) => ['--only', id]);

interface Case {
  scenario: string;
  state: string;
  observed: { status: unknown; reasons: string[] };
  expected?: { reason?: unknown };
  probes?: number[];
  requestIds?: string[];
}
interface Report {
  runs: Array<{ gateway: string; version?: string; runtime: string; external?: { runId: string; log?: string; reasonsChecked: boolean }; cases: Case[]; skipped: Array<{ scenario: string; why: string }> }>;
}
const readJson = async (file: string): Promise<Report> => JSON.parse(await readFile(file, 'utf8'));

let dir: string;
let nginx: ChildProcess;
let url: string;
let upstreamPort: number;
let errorLog: string;
let accessLog: string;

beforeAll(async () => {
  // The tests decide the token themselves.
  delete process.env.BADGATEWAY_CONTROL_TOKEN;
  dir = await mkdtemp(join(tmpdir(), 'badgateway-external-'));
  await mkdir(join(dir, 'logs'));
  await mkdir(join(dir, 'tmp'));
  const port = await freePort('127.0.0.1');
  upstreamPort = await freePort('127.0.0.1');
  url = `http://127.0.0.1:${port}`;
  errorLog = join(dir, 'logs', 'error.log');
  accessLog = join(dir, 'logs', 'access.log');
  await writeFile(
    join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;
error_log ${errorLog} info;
daemon off;
worker_processes 1;
events { worker_connections 256; }
http {
  log_format ids '$http_x_request_id $request';
  access_log ${accessLog} ids;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  proxy_connect_timeout 1s;
  proxy_read_timeout 1s;
  proxy_send_timeout 1s;
  server {
    listen 127.0.0.1:${port};
    location /s/ { proxy_pass http://127.0.0.1:${upstreamPort}; }
  }
}
`,
  );
  nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], { stdio: 'ignore' });
  // Up once it answers (a 502: nothing listens upstream yet).
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${url}/s/x/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('nginx did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}, 20_000);

afterAll(async () => {
  if (nginx?.pid !== undefined && nginx.exitCode === null) {
    const gone = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGTERM');
    await gone;
  }
  await rm(dir, { recursive: true, force: true });
});

/** Every exchange scenario judged against nginx's expectation (passing, with the expected reason seen), every other skipped with its reason. */
function expectJudgedAndSkipped(report: Report, withReasons: boolean): void {
  const [run] = report.runs;
  expect(run).toMatchObject({ gateway: 'nginx', version: '1.22.1', runtime: 'external' });
  expect(run!.cases.map((c) => c.scenario).sort()).toEqual([...EXCHANGE].sort());
  for (const c of run!.cases) {
    expect(c.state, `${c.scenario}: ${JSON.stringify(c)}`).toBe('pass');
    expect(c.requestIds).toEqual(c.probes!.map((n) => `bg-${run!.external!.runId}-${n}`));
  }
  const byId = new Map(run!.cases.map((c) => [c.scenario, c]));
  if (withReasons) {
    expect(byId.get('empty-reply')!.observed.reasons).toContain('upstream-closed-early');
    expect(byId.get('reset-after-request')!.observed.reasons).toContain('upstream-reset');
    expect(byId.get('body-cut-fin-length')!.observed.reasons).toContain('upstream-truncated');
  } else {
    for (const c of run!.cases) expect(c.observed.reasons).toEqual([]);
  }
  expect(byId.get('empty-reply')!.expected?.reason).toBeDefined();
  expect(run!.skipped.map((s) => s.scenario).sort()).toEqual(Object.keys(OUTSIDE).sort());
  for (const s of run!.skipped) expect(s.why).toMatch(OUTSIDE[s.scenario]!);
}

describe('--runtime external with --upstream-listen', () => {
  test('the exchange scenarios are judged against nginx with reasons from its error log; the others are skipped, saying why', async () => {
    const json = join(dir, 'listen.json');
    const r = await runCli(['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-listen', `127.0.0.1:${upstreamPort}`, '--gateway-log', errorLog, ...ONLY, '--reporter', 'console', '--reporter', `json:${json}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = await readJson(json);
    expectJudgedAndSkipped(report, true);
    expect(report.runs[0]!.external).toMatchObject({ log: errorLog, reasonsChecked: true });
    // Every probe carried its X-Request-Id to nginx, which logged it beside the request.
    const access = await readFile(accessLog, 'utf8');
    for (const id of report.runs[0]!.cases.flatMap((c) => c.requestIds!)) expect(access).toMatch(new RegExp(`^${id} GET /s/`, 'm'));
    // Nothing is left listening on the upstream's address once the run is over.
    await expect(fetch(`http://127.0.0.1:${upstreamPort}/healthz`)).rejects.toThrow();
  }, 60_000);

  test('without a log the report says reasons were not checked, and an expected reason is neither passed nor failed', async () => {
    const json = join(dir, 'nolog.json');
    const r = await runCli(['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-listen', `127.0.0.1:${upstreamPort}`, ...ONLY, '--reporter', 'console', '--reporter', `json:${json}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/reasons were not checked \(no gateway log\)/);
    const report = await readJson(json);
    expectJudgedAndSkipped(report, false);
    expect(report.runs[0]!.external).toMatchObject({ reasonsChecked: false });
  }, 60_000);

  test('Ctrl-C stops the upstream it started and the log command, and touches nothing of the gateway', async () => {
    const marker = `bg-x1-log-${process.pid}-${Date.now()}`;
    const run = startCli(['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-listen', `127.0.0.1:${upstreamPort}`, '--gateway-log-cmd', `tail -n0 -F ${errorLog} # ${marker}`, '--only', 'slow-response', '--only', 'never-respond']);
    await waitForOutput(run.output, /nginx \(external\): 2 scenarios/);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    expect(ps).not.toContain(marker);
    await expect(fetch(`http://127.0.0.1:${upstreamPort}/healthz`)).rejects.toThrow();
    // The gateway still runs.
    expect((await fetch(`${url}/s/x/`)).status).toBe(502);
  }, 60_000);

  test('bad flags are refused before anything starts, each with what to do (exit 2)', async () => {
    const base = ['run', '--gateway', 'nginx', '--runtime', 'external', '--only', 'healthy'];
    const cases: Array<[string[], RegExp]> = [
      [[...base, '--upstream-listen', `127.0.0.1:${upstreamPort}`], /give its address with --url/],
      [[...base, '--url', url], /--upstream-listen HOST:PORT .* or --upstream-control URL/],
      [[...base, '--url', url, '--upstream-listen', `0.0.0.0:${upstreamPort}`], /beyond loopback.*BADGATEWAY_CONTROL_TOKEN/],
      [[...base, '--url', 'https://127.0.0.1:1', '--upstream-listen', `127.0.0.1:${upstreamPort}`], /http:\/\/ listener/],
      [['run', '--gateway', 'nginx', '--url', url, '--only', 'healthy'], /add --runtime external/],
      [[...base, '--url', url, '--upstream-listen', `127.0.0.1:${upstreamPort}`, '--health-path', 'healthz'], /--health-path "healthz": give a path starting with \//],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 60_000);
});

describe('--runtime external with serve --suite and --upstream-control', () => {
  test('a run against a suite deployed separately checks it over the control API and judges as with --upstream-listen; with a token, only with that token', async () => {
    const token = 'x1-test-token-7f3a';
    const controlPort = await freePort('127.0.0.1');
    const serve = startCli(['serve', '--suite', 'scenarios', '--host', '127.0.0.1', '--port', String(upstreamPort), '--control-port', String(controlPort), '--no-dns', '--listener-faults', 'none'], { BADGATEWAY_CONTROL_TOKEN: token });
    try {
      await waitForOutput(serve.output, /Ctrl-C stops everything/);
      expect(serve.output()).toMatch(/suite +\/s\/<scenario>\/ +\d+ scenarios .*health check \/healthz/);
      const health = await fetch(`http://127.0.0.1:${upstreamPort}/healthz`);
      expect(health.status).toBe(200);
      const control = `http://127.0.0.1:${controlPort}`;
      const args = ['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-control', control, '--gateway-log', errorLog, ...ONLY];

      const refused = await runCli(args);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/refused the request without a token \(401\)/);

      const json = join(dir, 'control.json');
      const r = await runCli([...args, '--reporter', 'console', '--reporter', `json:${json}`], { BADGATEWAY_CONTROL_TOKEN: token });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expectJudgedAndSkipped(await readJson(json), true);
      expect(r.stdout).toMatch(/upstream deployed, control API/);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.done;
    }
  }, 90_000);

  test('an upstream serving another suite is refused, naming what differs', async () => {
    const suite = join(dir, 'other-suite');
    await mkdir(suite);
    // The id empty-reply, playing another fault than the built-in scenario of that name.
    const builtin = await readFile('scenarios/empty-reply.yaml', 'utf8');
    await writeFile(join(suite, 'empty-reply.yaml'), builtin.replace(/^fault: .*$/m, 'fault: healthy'));
    const controlPort = await freePort('127.0.0.1');
    const serve = startCli(['serve', '--suite', suite, '--port', String(upstreamPort), '--control-port', String(controlPort), '--no-dns', '--listener-faults', 'none']);
    try {
      await waitForOutput(serve.output, /Ctrl-C stops everything/);
      const r = await runCli(['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-control', `http://127.0.0.1:${controlPort}`, '--only', 'empty-reply', '--only', 'healthy']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/serves another suite than this run's: empty-reply plays healthy there, empty-reply here; healthy is not served there/);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.done;
    }
  }, 60_000);

  test('a control URL where something else answers 200 is refused in one paragraph, not a stack trace', async () => {
    const other = createServer((_req, res) => res.end('<html>not badgateway</html>'));
    await new Promise<void>((r) => other.listen({ host: '127.0.0.1', port: 0 }, r));
    try {
      const port = (other.address() as AddressInfo).port;
      const r = await runCli(['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-control', `http://127.0.0.1:${port}`, '--only', 'healthy']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/answered GET \/api\/suite with something other than a served suite .*not another service on that port/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  }, 60_000);

  test('serve --suite beyond loopback needs a token for its control API, and says so', async () => {
    const r = await runCli(['serve', '--suite', 'scenarios', '--host', '0.0.0.0', '--port', '8080']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/serve --suite on 0\.0\.0\.0 starts its control API there too \(port 8081\).*needs a token: set BADGATEWAY_CONTROL_TOKEN/);
    const run = await runCli(['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-control', 'http://10.255.255.1:8081', '--only', 'healthy']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--upstream-control http:\/\/10\.255\.255\.1:8081 is beyond loopback.*BADGATEWAY_CONTROL_TOKEN/);
  }, 30_000);
});

describe('judge', () => {
  test('a report judged with log lines that arrived later gives the verdicts of a run that had the log all along', async () => {
    const withLog = join(dir, 'judge-with.json');
    const without = join(dir, 'judge-without.json');
    const common = ['run', '--gateway', 'nginx', '--runtime', 'external', '--url', url, '--upstream-listen', `127.0.0.1:${upstreamPort}`, ...ONLY];
    const a = await runCli([...common, '--gateway-log', errorLog, '--reporter', `json:${withLog}`]);
    expect(a.code, a.stderr).toBe(0);
    const b = await runCli([...common, '--reporter', `json:${without}`]);
    expect(b.code, b.stderr).toBe(0);

    // The whole error log: other runs' lines are in it too, and must not be attributed to this one's probes.
    const judged = join(dir, 'judged.json');
    const j = await runCli(['judge', without, '--gateway-log', errorLog, '--reporter', 'console', '--reporter', `json:${judged}`]);
    expect(j.code, j.stdout + j.stderr).toBe(0);
    const verdicts = (r: Report) => Object.fromEntries(r.runs[0]!.cases.map((c) => [c.scenario, { state: c.state, status: c.observed.status, reasons: c.observed.reasons }]));
    expect(verdicts(await readJson(judged))).toEqual(verdicts(await readJson(withLog)));
    expect((await readJson(judged)).runs[0]!.external).toMatchObject({ log: errorLog, reasonsChecked: true });

    // Gzipped, in a folder, as S3 holds access logs: the same.
    const gz = join(dir, 'gz');
    await mkdir(gz);
    await writeFile(join(gz, 'error.log.gz'), gzipSync(await readFile(errorLog)));
    const g = await runCli(['judge', without, '--gateway-log', gz, '--reporter', `json:${join(dir, 'judged-gz.json')}`]);
    expect(g.code, g.stderr).toBe(0);
    expect(verdicts(await readJson(join(dir, 'judged-gz.json')))).toEqual(verdicts(await readJson(withLog)));

    // A log without this run's lines: the reasons nginx is expected to give are now checked, and missing.
    await writeFile(join(dir, 'empty.log'), '');
    const e = await runCli(['judge', without, '--gateway-log', join(dir, 'empty.log'), '--reporter', `json:${join(dir, 'judged-empty.json')}`]);
    expect(e.code).toBe(1);
    const failed = (await readJson(join(dir, 'judged-empty.json'))).runs[0]!.cases.filter((c) => c.state === 'fail').map((c) => c.scenario);
    expect(failed).toEqual(expect.arrayContaining(['empty-reply', 'reset-after-request']));
  }, 90_000);
});
