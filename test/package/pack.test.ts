/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/ from a clean copy), installed
 * into a fresh project with vitest, then used from there through a real nginx: a plain node script
 * runs a suite, vitest runs the README's matcher example and a test that fails on purpose, the bin
 * answers, and a TypeScript consumer type-checks against the published types.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftIn, processesNaming } from '../helpers/interrupt.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1', ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function ok(r: Ran, what: string): Ran {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function versionOf(pkg: string): Promise<string> {
  return (JSON.parse(await readFile(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The README's matcher example, exactly as printed: the fenced block after the marker that names this test. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('<!-- test/package/pack.test.ts runs the next example');
  expect(at, 'README marks the example this test runs').toBeGreaterThan(-1);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  return m![1]!;
}

const FAILS_ON_PURPOSE = `import { expect, it } from 'vitest';
import { useGateway } from 'badgateway/vitest';

const nginx = useGateway('nginx', { runtime: 'process', only: ['reset-after-request'] });

it('reset-after-request is a 502 whose log says upstream-reset', async () => {
  const r = await nginx.check('reset-after-request');
  expect(r).toBeGatewayError(502);
  expect(r).toHaveGatewayReason('upstream-reset');
  expect(r).toPassExpectation();
});

it('fails on purpose: expects a 504', async () => {
  expect(await nginx.check('reset-after-request')).toBeGatewayError(504);
});
`;

const RUN_SUITE = `import { runSuite } from 'badgateway';

const result = await runSuite({ gateways: ['nginx'], only: ['empty-reply', 'healthy'], runtime: 'process' });
const run = result.runs[0];
console.log(JSON.stringify({
  gateway: run.gateway,
  version: run.version,
  passed: result.passed,
  failed: result.failed,
  cases: run.cases.map((c) => ({ id: c.scenario.id, status: c.observed.status, reasons: c.observed.reasons, pass: c.verdict?.pass })),
}));
`;

// Compiled, never run: the matcher types reach a user's project, and wrong uses are type errors.
const TYPES = `import { expect } from 'vitest';
import { runSuite, startGateway, type CaseResult } from 'badgateway';
import { useGateway, withGateway, type GatewayHandle } from 'badgateway/vitest';

export async function typed(c: CaseResult, h: GatewayHandle): Promise<string> {
  expect(c).toBeGatewayError(502);
  expect(c).toBeGatewayError('5xx');
  expect(c).not.toBeGatewayError('no-response');
  expect(c).toHaveBody('truncated');
  expect(c).toHaveGatewayReason('upstream-reset');
  expect(c).toPassExpectation();
  expect({ c }).toEqual({ c: expect.toBeGatewayError(502) });
  // @ts-expect-error: not a body state
  expect(c).toHaveBody('partial');
  // @ts-expect-error: not a status class the matcher knows
  expect(c).toBeGatewayError('4xx');
  // @ts-expect-error: toPassExpectation takes no argument
  expect(c).toPassExpectation(true);
  const result = await runSuite({ gateways: ['nginx'] });
  const first: CaseResult | undefined = result.runs[0]?.cases[0];
  await using gw = await startGateway({ gateway: 'nginx', only: ['healthy'] });
  const judged = await withGateway({ gateway: 'nginx' }, (g) => g.check('healthy'));
  return [h.started.url, gw.url, first?.scenario.id, judged.verdict?.pass].join();
}
export const handle: GatewayHandle = useGateway('nginx');
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipLibCheck: true },
  include: ['types.ts', 'test'],
};

describe('the packed package, installed in a fresh project', () => {
  let tmp: string;
  let project: string;
  let packed: { filename: string; files: Array<{ path: string }> };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'badgateway-pack-'));
    // A clean copy (no dist/), so what is packed is what prepack built, as from a fresh checkout;
    // it also keeps the build away from the dist/ other tests of this checkout run.
    const copy = join(tmp, 'checkout');
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const sources = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', ...pkg.files.filter((f) => !f.startsWith('!') && f !== 'dist')];
    for (const f of new Set(sources)) await cp(join(ROOT, f), join(copy, f), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const pack = ok(await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: copy }), 'npm pack');
    [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [typeof packed];

    project = join(tmp, 'project');
    await mkdir(join(project, 'test'), { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    const deps = [join(tmp, packed.filename), `vitest@${await versionOf('vitest')}`, `typescript@${await versionOf('typescript')}`, `@types/node@${await versionOf('@types/node')}`];
    ok(await run('npm', ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', ...deps], { cwd: project, timeoutMs: 180_000 }), 'npm install');
  }, 240_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('packs the build, the types, the bin and the scenarios, and no tests', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/vitest.js', 'dist/vitest.d.ts', 'dist/cli/bin.js', 'scenarios/healthy.yaml', 'README.md', 'package.json']) expect(files).toContain(f);
    expect(files.filter((f) => /\.test\.|^src\/|^test\//.test(f))).toEqual([]);
  });

  it('runs a suite through a real nginx from a plain node script', async () => {
    await writeFile(join(project, 'run-suite.mjs'), RUN_SUITE);
    const runTmp = await mkdtemp(join(tmp, 'tmp-'));
    const r = ok(await run('node', ['run-suite.mjs'], { cwd: project, env: { TMPDIR: runTmp }, timeoutMs: 60_000 }), 'node run-suite.mjs');
    const out = JSON.parse(r.stdout) as { gateway: string; version: string; passed: number; failed: number; cases: Array<{ id: string; status: unknown; reasons: string[]; pass: boolean }> };
    expect(out.gateway).toBe('nginx');
    expect(out.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(out.cases.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'empty-reply', status: 502, reasons: ['upstream-closed-early'], pass: true },
      { id: 'healthy', status: 200, reasons: [], pass: true },
    ]);
    expect([out.passed, out.failed]).toEqual([2, 0]);
    expect(processesNaming(runTmp)).toBe('');
    expect(await leftIn(runTmp)).toEqual([]);
  }, 90_000);

  it("runs vitest with badgateway/vitest: the README's example passes, and a failing matcher prints the transcript", async () => {
    await writeFile(join(project, 'test/readme.test.ts'), await readmeExample());
    await writeFile(join(project, 'test/fails.test.ts'), FAILS_ON_PURPOSE);
    const runTmp = await mkdtemp(join(tmp, 'tmp-'));
    const r = await run('npx', ['vitest', 'run'], { cwd: project, env: { TMPDIR: runTmp, CI: '1' }, timeoutMs: 120_000 });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    expect(out).toMatch(/Test Files\s+1 failed \| 1 passed \(2\)/);
    expect(out).toMatch(/Tests\s+1 failed \| 4 passed \(5\)/);
    expect(out).toMatch(/FAIL\s+test\/fails\.test\.ts > fails on purpose: expects a 504/);
    expect(out).toMatch(/reset-after-request through nginx \d+\.\d+\.\d+: expected the client to get status 504, but it got status 502/);
    expect(out).toContain('  < HTTP/1.1 502 Bad Gateway\n');
    expect(out).toMatch(/  < Server: nginx\/\d/);
    expect(out).toContain('ended: a complete response (the probe closed)');
    expect(out).toMatch(/gateway log \(1 line for this request\):\n  .*recv\(\) failed \(104: Connection reset by peer\).*reset-after-request\/\?bgp=\d+.*   → upstream-reset/);
    // The scenario file a failure names is the one shipped in the package.
    expect(out).toMatch(/scenario: .*\/node_modules\/badgateway\/scenarios\/reset-after-request\.yaml/);
    expect(processesNaming(runTmp)).toBe('');
    // vitest keeps a temp dir of its own (a nanoid); the gateways' prefixes and sockets are gone.
    expect((await leftIn(runTmp)).filter((f) => f.startsWith('badgateway'))).toEqual([]);
  }, 150_000);

  it('answers npx badgateway --version', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = ok(await run('npx', ['badgateway', '--version'], { cwd: project }), 'npx badgateway --version');
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('type-checks a TypeScript consumer of both entries and the matcher types', async () => {
    await writeFile(join(project, 'types.ts'), TYPES);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    const r = await run('npx', ['tsc', '-p', '.'], { cwd: project, timeoutMs: 90_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);
});
