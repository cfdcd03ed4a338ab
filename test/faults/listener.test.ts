/** Listener-level faults (before any byte is exchanged) and the unix-socket listener. */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, openSession, rawRequest, tryConnect, waitUntil } from '../helpers/raw-client.js';

let up: StartedUpstream;
// fcgi-pool-full listens on a unix socket: it starts only with a path.
const poolDir = mkdtempSync(join(tmpdir(), 'bg-pool-full-'));
const poolPath = join(poolDir, 'fcgi-pool-full.sock');
beforeAll(async () => {
  up = await startUpstream({ listenerFaultPaths: { 'fcgi-pool-full': poolPath } });
});
afterAll(async () => {
  await up?.close();
  rmSync(poolDir, { recursive: true, force: true });
});

/** What a unix-socket connect() from Node (libuv: non-blocking, as nginx's) ends in. */
function unixConnect(path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('connect');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const port = (id: string): number => {
  const l = up.listeners.find((x) => x.fault === id);
  if (!l?.port) throw new Error(`no listener for ${id}: ${JSON.stringify(up.listeners)}`);
  return l.port;
};

/** One check per listener fault; a listener fault added to the catalogue without one fails below. */
const CHECKS: Record<string, () => Promise<void>> = {
  'connect-refused': async () => {
    expect(await tryConnect(port('connect-refused'), 500)).toBe('ECONNREFUSED');
    const r = await rawRequest(GET('/'), { port: port('connect-refused'), timeoutMs: 500 });
    expect([r.end, r.errorCode, r.bytes.length]).toEqual(['error', 'ECONNREFUSED', 0]);
  },
  'accept-queue-full': async () => {
    // The SYN is dropped: no refusal, no connection, just our own timeout.
    const started = performance.now();
    expect(await tryConnect(port('accept-queue-full'), 500)).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(495);
  },
  'reset-on-accept': async () => {
    // Without writing: the RST is the first and only thing that arrives (often before
    // Node reports the connect, so the session's connect may fail with it too).
    const s = openSession({ port: port('reset-on-accept') });
    try {
      const end = await s.waitEnd(1000);
      expect(end === 'timeout' ? end : [end.end, end.errorCode]).toEqual(['reset', 'ECONNRESET']);
      expect(s.bytes().length).toBe(0);
    } finally {
      s.destroy();
    }
  },
  'fcgi-pool-full': async () => {
    const l = up.listeners.find((x) => x.fault === 'fcgi-pool-full');
    expect(l).toMatchObject({ kind: 'unix', path: poolPath, protocol: 'fastcgi' });
    // Anyone may connect (a gateway in a container runs as another user)...
    expect(statSync(poolPath).mode & 0o777).toBe(0o666);
    // ...and is refused at once with EAGAIN, every time: the queue is full of our own connections.
    const started = performance.now();
    expect(await Promise.all([unixConnect(poolPath), unixConnect(poolPath), unixConnect(poolPath)])).toEqual(['EAGAIN', 'EAGAIN', 'EAGAIN']);
    expect(performance.now() - started).toBeLessThan(400);
  },
  'close-on-accept': async () => {
    const r = await rawRequest(GET('/'), { port: port('close-on-accept'), timeoutMs: 1000 });
    expect([r.end, r.bytes.length]).toEqual(['fin', 0]);
    // And without writing anything first.
    const s = openSession({ port: port('close-on-accept') });
    try {
      await s.connected;
      const end = await s.waitEnd(1000);
      expect(end === 'timeout' ? end : end.end).toBe('fin');
      expect(s.bytes().length).toBe(0);
    } finally {
      s.destroy();
    }
  },
};

describe('listener faults', () => {
  const listenerIds = new Catalogue()
    .list()
    // The tls-* listeners are checked with a real TLS client in test/tls/listener-faults.test.ts.
    .filter((d) => d.layer === 'listener' && d.listener !== 'tls')
    .map((d) => d.id);

  test('the check table names only listener faults of the catalogue', () => {
    expect(Object.keys(CHECKS).filter((id) => !listenerIds.includes(id))).toEqual([]);
  });

  test.concurrent.each(listenerIds)('%s', async (id) => {
    const check = CHECKS[id];
    if (!check) throw new Error(`listener fault ${id} has no wire check: add one to CHECKS in test/faults/listener.test.ts`);
    await check();
  });

  test('each listener fault has its own port and the main listener still serves', async () => {
    const ports = up.listeners.filter((l) => l.kind === 'tcp').map((l) => l.port);
    expect(new Set(ports).size).toBe(ports.length);
    const r = await rawRequest(GET('/healthy', 'Connection: close\r\n'), { port: up.http.port });
    expect([r.end, r.bytes.toString('latin1').split('\r\n')[0]]).toEqual(['fin', 'HTTP/1.1 200 OK']);
  });
});

describe('the refused port is held', () => {
  // Releasing a free port let another listener of the same run take it: a gateway then met a
  // reset or a close behind its "refused" port. Now nothing can listen there while the fault runs.
  test('nothing else can listen on it, nor get it from port 0, and connecting is still refused', async () => {
    const refused = port('connect-refused');
    const blocked = createServer();
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      blocked.once('error', resolve);
      blocked.listen({ host: '127.0.0.1', port: refused }, () => resolve(Object.assign(new Error('listened'), { code: 'LISTENED' })));
    });
    blocked.close();
    expect(err.code).toBe('EADDRINUSE');
    // Listeners on port 0, as four chaos sides starting together get theirs: none is handed the held port.
    const servers = await Promise.all(
      Array.from({ length: 200 }, () => new Promise<Server>((resolve) => { const s = createServer(); s.listen({ host: '127.0.0.1', port: 0 }, () => resolve(s)); })),
    );
    try {
      expect(servers.map((s) => (s.address() as AddressInfo).port)).not.toContain(refused);
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
    expect(await tryConnect(refused, 500)).toBe('ECONNREFUSED');
  });

  test('the port is free again once the upstream closes', async () => {
    const own = await startUpstream({ listenerFaults: ['connect-refused'] });
    const held = own.listeners.find((l) => l.fault === 'connect-refused')!.port!;
    expect(await tryConnect(held, 500)).toBe('ECONNREFUSED');
    await own.close();
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen({ host: '127.0.0.1', port: held }, () => resolve());
    });
    again.close();
  });
});

describe('a unix-socket listener fault', () => {
  test('is left out without a path, refused by name without one, and removes its socket on close', async () => {
    const plain = await startUpstream();
    try {
      expect(plain.listeners.map((l) => l.fault)).not.toContain('fcgi-pool-full');
    } finally {
      await plain.close();
    }
    await expect(startUpstream({ listenerFaults: ['fcgi-pool-full'] })).rejects.toMatchObject({ code: 'BG_BAD_OPTION', message: expect.stringContaining('listenerFaultPaths') });
    const dir = mkdtempSync(join(tmpdir(), 'bg-pool-full-'));
    const path = join(dir, 'full.sock');
    try {
      const own = await startUpstream({ listenerFaults: ['fcgi-pool-full'], listenerFaultPaths: { 'fcgi-pool-full': path } });
      expect(await unixConnect(path)).toBe('EAGAIN');
      await own.close();
      expect(existsSync(path)).toBe(false);
      // A path already taken is a start error with the path in it, and leaves nothing running.
      const squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen({ path }, () => resolve()));
      try {
        await expect(startUpstream({ listenerFaults: ['fcgi-pool-full'], listenerFaultPaths: { 'fcgi-pool-full': path } })).rejects.toMatchObject({ code: 'BG_LISTEN_FAILED', message: expect.stringContaining(path) });
      } finally {
        await new Promise((r) => squatter.close(r));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unix socket listener', () => {
  test('serves healthy and a fault, and removes its socket file on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-unix-'));
    const path = join(dir, 'upstream.sock');
    try {
      const unixUp = await startUpstream({ unixPath: path, listenerFaults: [] });
      try {
        expect(existsSync(path)).toBe(true);
        expect(unixUp.listeners.find((l) => l.kind === 'unix')).toMatchObject({ name: 'unix', path });
        const [healthy, cut, empty, reset] = await Promise.all([
          rawRequest(GET('/healthy', 'Connection: close\r\n'), { port: 0, path }),
          rawRequest(GET('/body-cut-fin-length'), { port: 0, path }),
          rawRequest(GET('/empty-reply'), { port: 0, path }),
          rawRequest(GET('/reset-after-request'), { port: 0, path }),
        ]);
        expect([healthy.end, healthy.bytes.toString('latin1')]).toEqual([
          'fin',
          'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n',
        ]);
        expect([cut.end, cut.bytes.toString('latin1')]).toEqual(['fin', 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100)]);
        expect([empty.end, empty.bytes.length]).toEqual(['fin', 0]);
        // AF_UNIX has no RST: a reset step on a unix socket ends in a plain close.
        expect([reset.end, reset.bytes.length]).toEqual(['fin', 0]);
        await waitUntil(() => unixUp.openConnections === 0, 1000, 'no open connections');
      } finally {
        await unixUp.close();
      }
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
