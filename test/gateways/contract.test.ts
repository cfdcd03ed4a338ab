/**
 * The contract every registered gateway adapter keeps, checked once for all of them: a new
 * gateway is its file plus its line in src/gateways/index.ts, and this file finds both.
 * What is particular to one gateway (its directives, the log lines captured from it) stays
 * in src/gateways/<id>.test.ts.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import type { GatewayAdapter } from '../../src/gateways/gateway.js';
import { GATEWAYS } from '../../src/gateways/index.js';
import { READY_PATH, routePath } from '../../src/gateways/paths.js';
import { isReason } from '../../src/gateways/reasons.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';
import { renderInput, type RouteId } from '../helpers/render-input.js';

const DIR = fileURLToPath(new URL('../../src/gateways/', import.meta.url));

function isAdapter(x: unknown): x is GatewayAdapter {
  const a = x as Partial<GatewayAdapter> | null;
  return typeof a === 'object' && a !== null && typeof a.id === 'string' && typeof a.render === 'function' && typeof a.parseLogLine === 'function' && Array.isArray(a.reasons);
}

/** The line an example stands for, as the adapter's parser reads it. */
function lineOf(g: GatewayAdapter, example: string): string {
  return g.exampleLine ? g.exampleLine(example) : example;
}

describe('the gateway registry (src/gateways/index.ts)', () => {
  test('every file that exports an adapter default-exports it and is registered; ids are file names and unique', async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
    const problems: string[] = [];
    const withAdapter: string[] = [];
    for (const f of files) {
      const mod = (await import(`${DIR}${f}`)) as Record<string, unknown>;
      const adapters = Object.values(mod).filter(isAdapter);
      if (adapters.length === 0) continue;
      const id = f.slice(0, -'.ts'.length);
      withAdapter.push(id);
      if (!isAdapter(mod.default)) problems.push(`${f} exports an adapter but has no \`export default\` of it`);
      else if (!GATEWAYS.includes(mod.default)) problems.push(`${f} default-exports an adapter that is not listed in GATEWAYS (src/gateways/index.ts): add it there`);
      else if (mod.default.id !== id) problems.push(`${f} defines id "${mod.default.id}"; a gateway's id is its file name`);
    }
    expect(problems).toEqual([]);
    // Nothing registered without a file of its own.
    expect(GATEWAYS.map((g) => g.id).sort()).toEqual(withAdapter.sort());
    const ids = GATEWAYS.map((g) => g.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});

describe.each(GATEWAYS.map((g) => [g.id, g] as const))('%s keeps the adapter contract', (_id, g) => {
  // The shared route table, less what the harness never gives this gateway (it skips those scenarios).
  const drop: RouteId[] = [...(g.supportsUnixUpstream === false ? ['b' as const] : []), ...(g.supportsResolver === false ? ['c' as const] : [])];
  const input = renderInput({ drop, ...(g.supportsResolver === false ? { resolver: false } : {}), ...(g.syslogFile ? { logSink: { host: '127.0.0.1', port: 5514 } } : {}) });
  // A profile (alb, cloudflare) is driven where it runs: no binary, no listen address of ours, no args.
  const profile = g.runtimes !== undefined && !g.runtimes.includes('process') && !g.runtimes.includes('container');

  test('render: a main file among the files, paths under the prefix, the listen port, every route and the readiness path', () => {
    const out = g.render(input);
    const names = Object.keys(out.files);
    expect(names).toContain(out.main);
    for (const n of names) expect(n, n).not.toMatch(/^\/|(^|\/)\.\.(\/|$)/);
    if (!profile) expect(out.files[out.main]).toContain(String(input.listen.port));
    const all = names.map((n) => `${n}\n${out.files[n]}`).join('\n');
    expect(input.routes.length).toBeGreaterThanOrEqual(3);
    for (const r of input.routes) expect(all, `route ${r.id}`).toContain(routePath(r.id));
    expect(all).toContain(READY_PATH);
    // Rendering is pure: the same input gives the same files.
    expect(g.render(input)).toEqual(out);
  });

  test('reasons: each is in the shared vocabulary, documented once, with a meaning, causes and an example the parser reads back', () => {
    expect(g.reasons.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const info of g.reasons) {
      expect(isReason(info.reason), `${info.reason} is not in REASONS (src/gateways/reasons.ts)`).toBe(true);
      expect(seen.has(info.reason), `${info.reason} is documented twice`).toBe(false);
      seen.add(info.reason);
      expect(info.meaning.trim().length, info.reason).toBeGreaterThan(10);
      expect(info.causes.length, info.reason).toBeGreaterThan(0);
      expect(info.example, `${info.reason} has no example`).toBeTruthy();
      expect(g.parseLogLine(lineOf(g, info.example!))?.reason, `${info.reason}'s example: ${info.example}`).toBe(info.reason);
    }
  });

  test('every reason the parser gives on any documented line (any gateway\'s) is one this adapter documents', () => {
    const documented = new Set<string>(g.reasons.map((r) => r.reason));
    const lines = GATEWAYS.flatMap((o) => o.reasons.flatMap((r) => (r.example ? [r.example, lineOf(o, r.example), lineOf(g, r.example)] : [])));
    for (const line of lines) {
      const reason = g.parseLogLine(line)?.reason;
      if (reason !== undefined) expect(documented.has(reason), `${reason} from ${line}`).toBe(true);
    }
  });

  test('the scenarios a reason names exist in the built-in suite', async () => {
    const ids = new Set((await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((x) => x.id))).map((s) => s.id));
    for (const info of g.reasons) for (const s of info.scenarios) expect(ids.has(s), `${info.reason} names scenario ${s}`).toBe(true);
  });

  test.skipIf(profile)('how to get and run it: binary, install hint, images, version arguments, and a version sample parseVersion reads', () => {
    expect(g.binary).toMatch(/^\S+$/);
    expect(g.installHint.trim().length).toBeGreaterThan(10);
    expect(g.defaultImage).toMatch(/^\S+$/);
    expect(g.localImage).toMatch(/^\S+$/);
    expect(g.versionArgs.length).toBeGreaterThan(0);
    expect(g.versionExample, `${g.id} has no versionExample`).toBeTruthy();
    const v = g.parseVersion(g.versionExample!);
    // A Go-built gateway's version names its toolchain too (2.6.2+go1.19.8), a Node proxy's the Node it runs on (3.0.11+node20.20).
    expect(v).toMatch(/^\d+\.\d+(\.\d+)?(\+(go|node)\d+\.\d+(\.\d+)?)?$/);
    for (const part of v!.split(/\+go|\+node/)) expect(g.versionExample).toContain(part);
    for (const m of g.measuredOn ?? []) expect(m.version, `${g.id} measuredOn`).toMatch(/^\d+\.\d+(\.\d+)?(\+(go|node)\d+\.\d+(\.\d+)?)?$/);
    expect(g.parseVersion('no version here')).toBeUndefined();
    expect(g.logFiles.length).toBeGreaterThan(0);
    if (g.syslogFile) expect(g.logFiles).toContain(g.syslogFile);
  });

  // Not testArgs: a gateway without a config-test mode (Traefik) only checks that its binary runs.
  test.runIf(profile)('a profile refuses every runtime that starts a gateway, in a paragraph that says how to run it', () => {
    expect(g.installHint.trim().length).toBeGreaterThan(10);
    expect(g.logFiles.length).toBeGreaterThan(0);
    expect(() => g.args('/tmp/p', '/tmp/p/main.conf')).toThrow(/--runtime external/);
  });

  test.skipIf(profile)('args name the config file', () => {
    expect(g.args('/tmp/p', '/tmp/p/main.conf').join(' ')).toContain('/tmp/p/main.conf');
  });
});
