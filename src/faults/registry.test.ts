import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { BUILTIN_FAULTS } from './builtin/index.js';
import { compileFault, type ExchangeFaultDef, type FaultDef } from './fault.js';
import { Catalogue, loadFaultText } from './registry.js';
import { explainStep, type Step } from './steps.js';

const BUILTIN_DIR = fileURLToPath(new URL('./builtin/', import.meta.url));
const files = readdirSync(BUILTIN_DIR)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();
const exchange = BUILTIN_FAULTS.filter((d): d is ExchangeFaultDef => d.layer === 'exchange');

/** A compiled step as plain data, bytes as hex, so two compilations compare byte for byte. */
function plain(steps: readonly Step[]): unknown[] {
  return steps.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v])));
}

describe('the built-in catalogue', () => {
  test('has one file per fault, every file registered, and ids equal file names', async () => {
    expect(files.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const name of files) {
      const mod = (await import(`./builtin/${name}.ts`)) as { default?: FaultDef };
      if (mod.default === undefined) problems.push(`${name}.ts has no default export`);
      else if (!BUILTIN_FAULTS.includes(mod.default)) problems.push(`${name}.ts is not listed in BUILTIN_FAULTS (src/faults/builtin/index.ts)`);
      else if (mod.default.id !== name) problems.push(`${name}.ts defines id "${mod.default.id}"; the id must be the file name`);
    }
    expect(problems).toEqual([]);
    // Nothing registered that has no file of its own.
    expect(BUILTIN_FAULTS.map((d) => d.id).sort()).toEqual(files);
  });

  test('ids are unique and kebab-case', () => {
    const ids = BUILTIN_FAULTS.map((d) => d.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
  });

  test.each(BUILTIN_FAULTS.map((d) => [d.id, d] as const))('%s has a one-line summary and an explanation', (_id, def) => {
    expect(['exchange', 'listener', 'dns']).toContain(def.layer);
    expect(def.summary.trim().length).toBeGreaterThan(10);
    expect(def.summary).not.toMatch(/\n/);
    expect(def.explain.trim().length).toBeGreaterThan(10);
  });

  test('dns faults have distinct names and listener faults distinct behaviours', () => {
    const names = BUILTIN_FAULTS.flatMap((d) => (d.layer === 'dns' ? [d.name] : []));
    expect(new Set(names).size).toBe(names.length);
    // A behaviour on a unix socket (fcgi-pool-full) is another fault than on a TCP port; TLS listeners differ by their tls block.
    const behaviors = BUILTIN_FAULTS.flatMap((d) => (d.layer === 'listener' ? [`${d.listener} ${d.socket ?? 'tcp'} ${d.protocol ?? 'http'} ${JSON.stringify(d.tls ?? {})}`] : []));
    expect(new Set(behaviors).size).toBe(behaviors.length);
    // Only accept-queue-full has a unix-socket form (startUnixListenerFault).
    expect(BUILTIN_FAULTS.flatMap((d) => (d.layer === 'listener' && d.socket === 'unix' ? [d.listener] : []))).toEqual(['accept-queue-full']);
  });

  test.each(exchange.map((d) => [d.id, d] as const))('%s compiles, with its defaults and through the catalogue', (id, def) => {
    const compiled = compileFault(def);
    expect(compiled.steps.length).toBe(def.steps.length);
    expect(compiled.params).toEqual(def.params ?? {});
    for (const s of compiled.steps) expect(explainStep(s)).not.toBe('');
    expect(plain(new Catalogue().compile(id).steps)).toEqual(plain(compiled.steps));
  });
});

describe('every built-in exchange fault says what a client sees on the wire', () => {
  // test/faults/exchange.test.ts plays each `wire` on a real socket; these check it is there and aimed at its fault.
  test('each has `wire` in its own file', () => {
    // An HTTP/2 fault says it as frames (`h2Wire`, played by test/h2/wire.test.ts).
    const missing = exchange
      .filter((d) => (d.protocol === 'h2' ? d.h2Wire === undefined : d.wire === undefined))
      .map((d) => `src/faults/builtin/${d.id}.ts has no \`${d.protocol === 'h2' ? 'h2Wire' : 'wire'}\` (what a client gets and how the stream ends)`);
    expect(missing).toEqual([]);
  });

  test.each(exchange.filter((d) => d.wire !== undefined).map((d) => [d.id, d] as const))('%s: its request asks for this fault with declared params', (id, def) => {
    const w = def.wire!;
    // A query next to a whole request would be silently ignored.
    expect(w.request !== undefined && w.query !== undefined, 'both request and query').toBe(false);
    const targets = w.request !== undefined ? [...w.request.matchAll(/^[A-Z]+ (\S+) HTTP\/1\.[01]\r\n/gm)].map((m) => m[1]!) : [`/${id}${w.query ?? ''}`];
    expect(targets.length, 'request lines').toBeGreaterThan(0);
    for (const t of targets) {
      const url = new URL(t, 'http://test');
      expect(url.pathname).toBe(`/${id}`);
      for (const k of url.searchParams.keys()) expect(Object.keys(def.params ?? {}), `query param ${k}`).toContain(k);
    }
  });
});

describe('built-in exchange faults are written in the language users write', () => {
  test.each(exchange.map((d) => [d.id, d] as const))('%s survives a round trip through YAML', (id, def) => {
    const text = stringify({ id: def.id, layer: def.layer, summary: def.summary, explain: def.explain, params: def.params, steps: def.steps, ...(def.protocol ? { protocol: def.protocol } : {}) });
    const loaded = loadFaultText(text, `${id}.yaml`);
    expect(loaded).toHaveLength(1);
    const back = loaded[0]!;
    expect(back).toMatchObject({ id: def.id, layer: 'exchange', summary: def.summary, explain: def.explain });
    expect(back.params).toEqual(def.params);
    expect(back.protocol ?? 'http').toBe(def.protocol ?? 'http');
    expect(back.steps).toEqual(def.steps);
    expect(plain(compileFault(back).steps)).toEqual(plain(compileFault(def).steps));
    // Overridden params resolve the same way in both.
    if (def.params) {
      const overrides = Object.fromEntries(Object.entries(def.params).map(([k, v]) => [k, typeof v === 'number' ? v + 7 : `${v}x`]));
      expect(plain(compileFault(back, overrides).steps)).toEqual(plain(compileFault(def, overrides).steps));
    }
  });
});
