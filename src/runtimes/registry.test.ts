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
      const runtime = ((await import(`./${f}`)) as { default?: unknown }).default;
      if (!isRuntime(runtime)) continue;
      found.push(runtime.kind);
      const entry = RUNTIMES.find((r) => r.id === runtime.kind);
      if (!entry) problems.push(`${f} default-exports the "${runtime.kind}" runtime, which RUNTIMES (src/runtimes/index.ts) does not list`);
      else if ((await entry.load()) !== runtime) problems.push(`RUNTIMES' "${entry.id}" entry loads another object than ${f}'s runtime`);
      if (f !== `${runtime.kind}.ts`) problems.push(`${f} holds the "${runtime.kind}" runtime; name the file after its kind`);
    }
    expect(problems).toEqual([]);
    expect(found.sort()).toEqual(RUNTIMES.map((r) => r.id).sort());
  });

  test('the CLI choices are auto plus every registered runtime, each described', () => {
    expect(RUNTIME_CHOICES).toEqual(['auto', ...RUNTIMES.map((r) => r.id)]);
    for (const r of RUNTIMES) expect(r.describe.length).toBeGreaterThan(10);
  });
});
