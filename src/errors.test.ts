import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { closest, ERROR_CODES, InputError } from './errors.js';

const SRC = fileURLToPath(new URL('.', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const CODE = /['"`](BG_[A-Z0-9_]+)['"`]/g;

/** Every quoted `BG_*` literal in the source (tests excluded: they check codes, they do not define them), with where it is. */
function codesInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'errors.ts');
  for (const file of files) {
    const lines = readFileSync(join(SRC, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(CODE)) found.set(m[1]!, [...(found.get(m[1]!) ?? []), `src/${file}:${i + 1}`]);
    });
  }
  return found;
}

describe('the stable error codes', () => {
  const used = codesInSource();
  const listed = Object.keys(ERROR_CODES);

  test('the scan finds the codes the source throws (it would pass vacuously otherwise)', () => {
    expect(used.size).toBeGreaterThan(30);
  });

  test('every BG_* code in the source is listed in ERROR_CODES (src/errors.ts)', () => {
    const missing = [...used].filter(([code]) => !(code in ERROR_CODES)).map(([code, where]) => `${code} (${where.join(', ')})`);
    expect(missing).toEqual([]);
  });

  test('every code in ERROR_CODES is used somewhere', () => {
    expect(listed.filter((code) => !used.has(code))).toEqual([]);
  });

  test('every code has a meaning, and README lists each one in its "Errors and exit codes" table', () => {
    const readme = readFileSync(README, 'utf8');
    expect(listed.filter((code) => ERROR_CODES[code as keyof typeof ERROR_CODES].trim().length < 15)).toEqual([]);
    expect(listed.filter((code) => !new RegExp(`^\\| \`${code}\` \\|`, 'm').test(readme))).toEqual([]);
  });

  test('an error carries its code and a message without a stack in it', () => {
    const e = new InputError('BG_BAD_FLAG', '--port: must be a whole number');
    expect(e).toMatchObject({ code: 'BG_BAD_FLAG', userError: true, name: 'InputError' });
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});

describe('closest()', () => {
  test('substring matches first, then by edit distance', () => {
    expect(closest('empty-replay', ['healthy', 'empty-reply', 'slow-body'], 1)).toEqual(['empty-reply']);
    expect(closest('body-cut', ['healthy', 'body-cut-fin-length', 'body-cut-reset-length'], 2)).toEqual(['body-cut-fin-length', 'body-cut-reset-length']);
  });
});
