/** A process fault's `params:` in a scenario are checked when the suite loads: names, whole numbers, bounds. */
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
  dir = await mkdtemp(join(tmpdir(), 'badgateway-process-params-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string, body: string) {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `description: a backend frozen by SIGSTOP\n${body}expect: {}\n`);
  return loadSuite(file, new Catalogue(), GATEWAYS.map((g) => g.id));
}

async function message(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).code).toBe('BG_INVALID_SCENARIO');
  return (err as InputError).message;
}

describe('process fault params in a scenario', () => {
  test('good params load and carry through', async () => {
    const [s] = await load('ok', 'fault:\n  id: process-freeze\n  params: { frozenMs: 300 }\n');
    expect(s!.faultDef.layer).toBe('process');
    expect(s!.params).toEqual({ frozenMs: 300 });
  });

  test('an unknown name, a value out of bounds and upstream: are refused at their line', async () => {
    expect(await message(load('unknown', 'fault:\n  id: process-freeze\n  params: { frozenMS: 300 }\n'))).toMatch(/:4:\d+: fault process-freeze has no parameter "frozenMS"; its parameters: atRequest, frozenMs/);
    expect(await message(load('bounds', 'fault:\n  id: process-freeze\n  params: { frozenMs: 0 }\n'))).toMatch(/:4:\d+: fault process-freeze: parameter frozenMs must be a whole number from 1 to 60000, not 0/);
    expect(await message(load('upstream', 'fault: process-freeze\nupstream: unix\n'))).toMatch(/:3:\d+: upstream: applies to exchange faults; process-freeze is a process fault with its own backend process and port/);
  });

  test('a process fault can be a pool member, with its params checked at their line; recoverAfter is refused', async () => {
    const [s] = await load('pool', 'upstreams:\n  - fault: process-crash-restart\n    params: { downMs: 300 }\n  - healthy\n');
    expect(s!.pool!.map((m) => [m.faultDef.layer, m.params])).toEqual([
      ['process', { downMs: 300 }],
      ['exchange', {}],
    ]);
    expect(await message(load('pool-bounds', 'upstreams:\n  - fault: process-freeze\n    params: { frozenMs: 0 }\n  - healthy\n'))).toMatch(/:4:\d+: fault process-freeze: parameter frozenMs must be a whole number from 1 to 60000/);
    expect(await message(load('pool-recover', 'upstreams:\n  - fault: process-freeze\n    recoverAfter: 2\n  - healthy\n'))).toMatch(/:4:\d+: recoverAfter: applies to exchange faults; process-freeze is a process fault/);
  });
});
