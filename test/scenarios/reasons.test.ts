/** A scenario's `reason:` is checked against the shared vocabulary when the suite is loaded. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS } from '../../src/gateways/index.js';
import { loadSuite } from '../../src/scenarios/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-reasons-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes one scenario file whose expect block is `expectYaml`, and loads it as a suite. */
async function load(name: string, expectYaml: string) {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `description: a reset before the response\nfault: reset-after-request\nexpect:\n${expectYaml}`);
  return { file, load: () => loadSuite(file, new Catalogue(), GATEWAYS.map((g) => g.id)) };
}

async function rejection(p: Promise<unknown>): Promise<InputError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).code).toBe('BG_INVALID_SCENARIO');
  return err as InputError;
}

describe('reasons in a scenario', () => {
  test('a misspelt reason is rejected at its line and column, with the closest reasons and the vocabulary', async () => {
    const s = await load('plain', '  nginx:\n    status: 502\n    reason: upstream-rst\n');
    const err = await rejection(s.load());
    expect(err.message).toMatch(new RegExp(`^${s.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:13: unknown reason "upstream-rst"\\. Closest: upstream-reset, `));
    expect(err.message).toContain('normalized to these reasons: connect-refused, connect-timeout,');
    expect(err.message).toContain('`none` expects no log line naming the request with a reason');
  });

  test('in a list, the unknown entry is the one pointed at; version-keyed entries are checked too', async () => {
    const list = await load('list', '  apache:\n    reason: [upstream-reset, conect-failed]\n');
    const err = await rejection(list.load());
    expect(err.message).toMatch(/list\.yaml:5:30: unknown reason "conect-failed"\. Closest: connect-failed,/);
    const block = await load('block', '  nginx:\n    reason: upstream-reset\n  nginx@<1.23:\n    reason:\n      - upstream-reset\n      - Upstream-Truncated\n');
    expect((await rejection(block.load())).message).toMatch(/block\.yaml:9:9: unknown reason "Upstream-Truncated"\. Closest: upstream-truncated,/);
  });

  test('none is a keyword of its own: alone it loads, in a list with reasons it is rejected', async () => {
    const alone = await load('none-alone', '  nginx:\n    reason: none\n  caddy:\n    reason: [upstream-reset, upstream-truncated]\n');
    const [s] = await alone.load();
    expect(s!.expect.nginx!.reason).toBe('none');
    expect(s!.expect.caddy!.reason).toEqual(['upstream-reset', 'upstream-truncated']);
    const mixed = await load('none-mixed', '  nginx:\n    reason: [upstream-reset, none]\n');
    expect((await rejection(mixed.load())).message).toMatch(/none-mixed\.yaml:5:30: reason: none means no log line names the request with a reason, so it cannot be listed with reasons/);
  });
});
