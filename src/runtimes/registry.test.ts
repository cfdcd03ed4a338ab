/**
 * The runtime registry's contract: every file in src/runtimes/ that default-exports a runtime is
 * listed in index.ts under its own kind, and every listed entry loads a runtime that keeps the
 * interface. Adding a runtime is its file plus one line in RUNTIMES; without the line, this fails.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { RUNTIME_CHOICES, RUNTIMES } from './index.js';
import type { Runtime } from './runtime.js';

const DIR = fileURLToPath(new URL('./', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts');

function isRuntime(x: unknown): x is Runtime {
  const r = x as Partial<Runtime> | undefined;
  return typeof r === 'object' && r !== null && typeof r.kind === 'string' && typeof r.available === 'function' && typeof r.start === 'function';
}

describe('the runtime registry', () => {
  test('every runtime file is registered under its kind', async () => {
    const problems: string[] = [];
    const found: string[] = [];
    for (const f of files) {
      const mod = (await import(`./${f}`)) as { default?: unknown };
      if (!isRuntime(mod.default)) continue;
      found.push(mod.default.kind);
      const entry = RUNTIMES.find((r) => r.id === mod.default.kind);
      if (!entry) problems.push(`${f} default-exports the "${mod.default.kind}" runtime, which RUNTIMES (src/runtimes/index.ts) does not list`);
      else if ((await entry.load()) !== mod.default) problems.push(`RUNTIMES' "${entry.id}" entry loads another object than ${f}'s runtime`);
      if (f !== `${mod.default.kind}.ts`) problems.push(`${f} holds the "${mod.default.kind}" runtime; name the file after its kind`);
    }
    expect(problems).toEqual([]);
    expect(found.sort()).toEqual(RUNTIMES.map((r) => r.id).sort());
  });

  test('the CLI choices are auto plus every registered runtime, each described', () => {
    expect(RUNTIME_CHOICES).toEqual(['auto', ...RUNTIMES.map((r) => r.id)]);
    for (const r of RUNTIMES) expect(r.describe.length).toBeGreaterThan(10);
  });
});
