/**
 * A gateway's port taken by another process before the gateway binds it. A CI run on
 * 2026-12-02 saw it: four runs side by side (test/cli/merge-reports.test.ts), one run's
 * nginx port (freePort(), then closed) was taken by another run's upstream, which listens on
 * dozens of kernel-chosen ports; nginx failed its bind, the upstream answered the readiness
 * check, and every probe got the upstream's 200 ("no Server header, no log line").
 * Two guards: freePort() draws from outside the kernel's ephemeral range, and the process
 * runtime checks that the socket listening on the port is the gateway's own (Linux /proc).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BadgatewayError } from '../../src/errors.js';
import { nginx } from '../../src/gateways/nginx.js';
import { READY_PATH } from '../../src/gateways/paths.js';
import { makePrefix } from '../../src/runtimes/files.js';
import { groupListensOn } from '../../src/runtimes/port-owner.js';
import { findBinary, processRuntime } from '../../src/runtimes/process.js';
import { ephemeralRange, freePort, portsOutside } from '../../src/upstream/listen.js';
import { processesNaming } from '../helpers/interrupt.js';

describe('freePort', () => {
  test('the stretches outside the ephemeral range, from 10000 up', () => {
    expect(portsOutside([32768, 60999])).toEqual([[10000, 32767], [61000, 65535]]);
    expect(portsOutside([1024, 65535])).toEqual([]);
    expect(portsOutside([10000, 65000])).toEqual([[65001, 65535]]);
    expect(portsOutside([20000, 65535])).toEqual([[10000, 19999]]);
  });

  test.skipIf(ephemeralRange() === undefined)('draws outside the kernel\'s ephemeral range (Linux)', async () => {
    const [lo, hi] = ephemeralRange()!;
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort('127.0.0.1')));
    for (const p of ports) expect(p < lo || p > hi, `port ${p} in ${lo}-${hi}`).toBe(true);
    expect(new Set(ports).size).toBeGreaterThan(1);
  });

  test('with no stretch outside the range it is the kernel\'s choice', async () => {
    const p = await freePort('127.0.0.1', [1024, 65535]);
    expect(p).toBeGreaterThan(0);
  });
});

const bin = await findBinary('nginx');

describe.skipIf(ephemeralRange() === undefined || (bin === undefined && !process.env.CI))('the process runtime, its port taken', () => {
  let squatter: Server;
  let port: number;
  beforeAll(async () => {
    // Another process's server that answers 200 to anything, the readiness path included.
    squatter = createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((r) => squatter.listen({ host: '127.0.0.1', port: 0 }, r));
    port = (squatter.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => squatter.close(() => r()));
  });

  test('nginx whose port is held by another process fails to start with BG_ADDRESS_IN_USE, naming the holder, and leaves no process', { timeout: 30_000 }, async () => {
    const prefix = await makePrefix('nginx');
    const listen = { host: '127.0.0.1', port };
    const config = nginx.render({ listen, prefix, routes: [], timeouts: { connectMs: 1000, readMs: 1500, sendMs: 1000, resolverMs: 1000 } });
    const err = await processRuntime.start({ adapter: nginx, config, prefix, listen, readyPath: READY_PATH }).then(
      async (g) => {
        await g.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadgatewayError);
    expect((err as BadgatewayError).code).toBe('BG_ADDRESS_IN_USE');
    expect((err as BadgatewayError).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: another process, pid ${process.pid} \\(`));
    expect(processesNaming(prefix)).toBe('');
  });

  test('the check itself: this process\'s group holds the squatter\'s socket; a group that does not exist holds nothing', async () => {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(await groupListensOn(pgid, port)).toBe(true);
    expect(await groupListensOn(2 ** 22 + 7, port)).toBe(false);
  });
});
