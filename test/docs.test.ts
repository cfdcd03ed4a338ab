import { execFileSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { Catalogue } from '../src/faults/registry.js';
import { GATEWAYS } from '../src/gateways/index.js';
import { builtinScenarioDir, loadSuite } from '../src/scenarios/load.js';

test('the README catalogue matches the faults and scenarios (run `npm run docs` after changing them)', () => {
  const out = execFileSync(process.execPath, ['scripts/update-docs.mjs', '--check'], { encoding: 'utf8' });
  expect(out).toContain('current');
});

test('docs/field-guide.md matches the scenarios and adapters (run `npm run docs` after changing them)', () => {
  const out = execFileSync(process.execPath, ['scripts/field-guide.mjs', '--check'], { encoding: 'utf8' });
  expect(out).toContain('current');
});

test('a gateway has built-in measured expectations exactly when its adapter says what they were measured on (documented ones need no measurement)', async () => {
  const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));
  const withExpectations = GATEWAYS.filter((g) => scenarios.some((s) => Object.entries(s.expect).some(([k, e]) => k.split('@')[0] === g.id && e.documented === undefined))).map((g) => g.id);
  expect(GATEWAYS.filter((g) => g.measuredOn).map((g) => g.id)).toEqual(withExpectations);
});
