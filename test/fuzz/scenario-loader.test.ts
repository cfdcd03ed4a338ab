/**
 * Fuzz: the scenario loader (src/scenarios/load.ts scenarioFromYaml over src/yaml-source.ts
 * parseYaml). Whatever a scenario file says, it loads as a scenario the harness can use, or fails
 * with an InputError (BG_INVALID_SCENARIO, or a YAML error) that names file:line:col; never
 * another error, and never takes seconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS } from '../../src/gateways/index.js';
import { builtinScenarioDir, scenarioFromYaml } from '../../src/scenarios/load.js';
import { expectationFor, type Scenario } from '../../src/scenarios/scenario.js';
import { parseYaml } from '../../src/yaml-source.js';
import { fuzz, timeout } from './settings.js';
import { documents, expectInputError, NOISE_EXAMPLES, timed, yamlNoise } from './yaml-inputs.js';

const HANG_MS = 3000;
const catalogue = new Catalogue();
const gatewayIds = GATEWAYS.map((g) => g.id);
const dir = builtinScenarioDir();
const builtin = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as unknown);
/** The file name gives the id when the file has none; some names are not valid ids. */
const fileName = fc.constantFrom('fuzz-scenario.yaml', 'fuzz-scenario.yml', 'Not_Kebab.yaml', 'a b.yaml', '-x.yaml');

/** What the harness reads from a loaded scenario. */
function checkScenario(s: Scenario): void {
  expect(s.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
  expect(s.description.length).toBeGreaterThan(0);
  expect(s.faultDef.id).toBe(s.fault);
  if (s.backend) {
    // A real server plays the upstream: `fault` names its kind, and the counterpart is checked when the suite loads.
    expect(s.fault).toBe(s.backend.kind);
  } else {
    expect(catalogue.has(s.fault)).toBe(true);
    if (s.faultDef.layer === 'exchange') expect(catalogue.compile(s.fault, s.params).steps.length).toBeGreaterThan(0);
  }
  for (const m of s.pool ?? []) expect(catalogue.has(m.fault)).toBe(true);
  expect(['tcp', 'unix', 'dns']).toContain(s.upstream);
  expect(s.request.method).toMatch(/^[A-Z]+$/);
  expect(s.request.path.startsWith('/')).toBe(true);
  expect(s.request.timeoutMs).toBeGreaterThan(0);
  for (const [k, v] of s.request.headers) expect(typeof k === 'string' && typeof v === 'string').toBe(true);
  if (s.sequence) {
    expect(Number.isInteger(s.sequence.count) && s.sequence.count >= 1).toBe(true);
    expect(Number.isInteger(s.sequence.concurrency) && s.sequence.concurrency >= 1).toBe(true);
  }
  for (const gw of gatewayIds) for (const v of [undefined, '1.22.1', '2.6', '0']) expectationFor(s, gw, v);
}

function load(text: string, file: string): void {
  timed(HANG_MS, () => {
    let s: Scenario;
    try {
      s = scenarioFromYaml(parseYaml(text, file), catalogue, gatewayIds);
    } catch (err) {
      expectInputError(err, file, text);
      return;
    }
    checkScenario(s);
  });
}

describe('fuzz: scenario files', () => {
  test('the built-in scenarios load as they are (the base the edits start from)', () => {
    for (const doc of builtin) checkScenario(scenarioFromYaml(parseYaml(JSON.stringify(doc), 'fuzz-scenario.yaml'), catalogue, gatewayIds));
  });

  test(
    'built-in scenarios, edited and rewritten as YAML: they load, or fail with file:line:col',
    () => {
      fc.assert(
        fc.property(documents(builtin), fileName, load),
        // A description of only spaces passed as one and became ''.
        fuzz(600, [['description: " "\nfault: healthy\nexpect:\n  nginx:\n    status: 200\n', 'fuzz-scenario.yaml']]),
      );
    },
    timeout(30_000),
  );

  test(
    'YAML-flavoured noise: loads, or an InputError with file:line:col',
    () => {
      fc.assert(fc.property(yamlNoise, fileName, load), fuzz(1000, NOISE_EXAMPLES.map(([t]): [string, string] => [t, 'fuzz-scenario.yaml'])));
    },
    timeout(20_000),
  );
});
