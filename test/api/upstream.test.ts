/**
 * The public startUpstream handle: where each layer's fault is reached, events as an async
 * iterator, setFault, and close() leaving nothing listening. Real sockets and a real resolver.
 */
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { startUpstream, type UpstreamEventStamped } from '../../src/index.js';
import { rawRequest, tryConnect } from '../helpers/raw-client.js';

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;
const target = (url: string) => new URL(url).pathname + new URL(url).search;

describe('startUpstream (public API)', () => {
  test('a unix-socket listener fault starts with a path: listenerPaths and url() name it, and it refuses with EAGAIN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-api-full-'));
    const path = join(dir, 'full.sock');
    try {
      const without = await startUpstream({ dns: false, control: false });
      try {
        expect(without.listenerPaths).toEqual({});
        expect(() => without.url('fcgi-pool-full')).toThrow(/listenerFaultPaths/);
      } finally {
        await without.close();
      }
      const up = await startUpstream({ dns: false, control: false, listenerFaults: ['fcgi-pool-full'], listenerFaultPaths: { 'fcgi-pool-full': path } });
      try {
        expect([up.listenerPaths, up.url('fcgi-pool-full'), up.listeners]).toEqual([{ 'fcgi-pool-full': path }, `unix:${path}`, {}]);
        const code = await new Promise<string>((resolve) => {
          const s = connect({ path });
          s.once('connect', () => (s.destroy(), resolve('connect')));
          s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? ''));
        });
        expect(code).toBe('EAGAIN');
      } finally {
        await up.close();
      }
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('url() reaches each layer: exchange faults with params, listener faults, DNS names', async () => {
    const up = await startUpstream();
    try {
      const slow = up.url('slow-response', { delayMs: 10 });
      expect(slow).toBe(`${up.http.url}/slow-response?delayMs=10`);
      const r = await rawRequest(GET(target(slow)), { port: up.http.port, timeoutMs: 2000 });
      expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*late\n$/);

      expect(up.url('connect-refused')).toBe(up.listeners['connect-refused']!.url);
      expect(await tryConnect(up.listeners['connect-refused']!.port, 2000)).toBe('ECONNREFUSED');

      const name = up.dns!.name('dns-nxdomain');
      expect(up.url('dns-nxdomain')).toBe(`http://${name}:${up.http.port}/`);
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`${up.dns!.host}:${up.dns!.port}`]);
      await expect(resolver.resolve4(name)).rejects.toMatchObject({ code: 'ENOTFOUND' });

      // A param the fault does not declare is refused here, not served as a silently healthy answer.
      expect(() => up.url('slow-response', { delayMS: 10 })).toThrow(/no parameter "delayMS"/);
      expect(() => up.url('no-such-fault')).toThrow(/unknown fault "no-such-fault"/);
    } finally {
      await up.close();
    }
  });

  test('setFault changes what unrouted requests get; for await sees the events in order', async () => {
    const up = await startUpstream({ dns: false, listenerFaults: [] });
    const seen: UpstreamEventStamped[] = [];
    const reading = (async () => {
      for await (const e of up.events) {
        seen.push(e);
        if (e.type === 'close') break;
      }
    })();
    try {
      up.setFault('empty-reply');
      const r = await rawRequest(GET('/anything'), { port: up.http.port, timeoutMs: 2000 });
      expect(r.bytes.length).toBe(0);
      expect(r.end).toBe('fin');
      await reading;
      expect(seen.map((e) => e.type)).toEqual(expect.arrayContaining(['connection', 'request', 'close']));
      expect(seen.find((e) => e.type === 'request')).toMatchObject({ fault: 'empty-reply', via: 'default' });
      expect(() => up.setFault('no-such-fault')).toThrow(/unknown fault/);
    } finally {
      await up.close();
    }
  });

  test('Symbol.asyncDispose closes every listener and ends a waiting iterator', async () => {
    const up = await startUpstream({ listenerFaults: ['reset-on-accept'] });
    const it = up.events[Symbol.asyncIterator]();
    const next = it.next();
    const ports = [up.http.port, up.listeners['reset-on-accept']!.port];
    await up[Symbol.asyncDispose]();
    expect(await next).toEqual({ value: undefined, done: true });
    for (const port of ports) expect(await tryConnect(port, 2000)).toBe('ECONNREFUSED');
  });
});
