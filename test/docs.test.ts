import { execFileSync } from 'node:child_process';
import { expect, test } from 'vitest';

test('the README catalogue matches the faults and scenarios (run `npm run docs` after changing them)', () => {
  const out = execFileSync(process.execPath, ['scripts/update-docs.mjs', '--check'], { encoding: 'utf8' });
  expect(out).toContain('current');
});

test('docs/field-guide.md matches the scenarios and adapters (run `npm run docs` after changing them)', () => {
  const out = execFileSync(process.execPath, ['scripts/field-guide.mjs', '--check'], { encoding: 'utf8' });
  expect(out).toContain('current');
});
