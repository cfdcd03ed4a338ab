/**
 * The real-backend runners against the real servers: gunicorn's arbiter kills a worker that
 * outlives --timeout (the client gets nothing), php-fpm's pool answers over its unix socket and
 * request_terminate_timeout ends a slow script, a stopped master leaves no socket, and close()
 * and abandon() leave no process and no directory. Skipped without the binaries, except in CI.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { backendMissing, startBackend, type GunicornSpec, type PhpFpmSpec } from '../../src/backends/index.js';
import { fcgiRequest, defaultParams } from '../helpers/fcgi-client.js';
import { alive } from '../helpers/process-group.js';
import { rawRequest } from '../helpers/raw-client.js';

const gunicornMissing = await backendMissing('gunicorn');
const phpMissing = await backendMissing('php-fpm');
const root = mkdtempSync(join(tmpdir(), 'badgateway-backends-'));
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(root, { recursive: true, force: true });
});

const gunicorn = (over: Partial<GunicornSpec> = {}): GunicornSpec => ({ kind: 'gunicorn', timeout: 1, app: 'slow', sleepMs: 3000, intervalMs: 300, ...over });
const php = (over: Partial<PhpFpmSpec> = {}): PhpFpmSpec => ({ kind: 'php-fpm', maxChildren: 1, requestTerminateTimeout: 0, backlog: 511, script: 'slow', sleepMs: 50, intervalMs: 300, listen: 'unix', stopMaster: false, ...over });

test('CI has both backends', () => {
  if (process.env.CI === 'true') expect([gunicornMissing, phpMissing]).toEqual([undefined, undefined]);
});

describe.skipIf(gunicornMissing !== undefined)('gunicorn', () => {
  test('a worker that outlives --timeout is killed: the client gets no byte, then a FIN', { timeout: 20_000 }, async () => {
    const dir = join(root, 'g1');
    const b = await startBackend(gunicorn(), dir);
    try {
      expect(b.address.kind).toBe('tcp');
      const r = await rawRequest('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', { port: (b.address as { port: number }).port, timeoutMs: 5000 });
      expect(r.bytes.length).toBe(0);
      expect(r.end).toBe('fin');
      // The arbiter checks about once a second: killed between 1 and 3 s, never before --timeout.
      expect(r.durationMs).toBeGreaterThanOrEqual(900);
      expect(r.durationMs).toBeLessThan(3000);
      expect(await b.log()).toMatch(/WORKER TIMEOUT/);
    } finally {
      await b.close();
    }
    expect(alive(b.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  test('slow-body: the head and a first piece arrive, then the killed worker cuts the body short', { timeout: 20_000 }, async () => {
    const b = await startBackend(gunicorn({ app: 'slow-body' }), join(root, 'g2'));
    try {
      const r = await rawRequest('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', { port: (b.address as { port: number }).port, timeoutMs: 5000 });
      const text = r.bytes.toString('latin1');
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const length = Number(/Content-Length: (\d+)/i.exec(text)![1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      expect(body.startsWith('started\n')).toBe(true);
      expect(body.length).toBeLessThan(length);
      expect(r.end).toBe('fin');
    } finally {
      await b.close();
    }
  });

  test('abandon() kills the arbiter and its worker at once and removes the directory', { timeout: 20_000 }, async () => {
    const dir = join(root, 'g3');
    const b = await startBackend(gunicorn(), dir);
    expect(alive(b.pid)).toBe(true);
    b.abandon();
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(b.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe.skipIf(phpMissing !== undefined)('php-fpm', () => {
  const ask = (b: { address: { kind: string; path?: string } }, script: string, timeoutMs = 5000) =>
    rawRequest(fcgiRequest({ params: [...defaultParams('/x?bgp=1'), ['SCRIPT_FILENAME', script]] }), { port: 0, path: b.address.path, timeoutMs });

  test('the pool answers over its unix socket (mode 0666); close() stops master and children', { timeout: 20_000 }, async () => {
    const dir = join(root, 'p1');
    const b = await startBackend(php(), dir);
    try {
      expect(b.address.kind).toBe('unix');
      const { stat } = await import('node:fs/promises');
      expect((await stat((b.address as { path: string }).path)).mode & 0o777).toBe(0o666);
      const r = await ask(b, b.scriptFilename!);
      expect(r.bytes.toString('latin1')).toContain('slow script answered');
    } finally {
      await b.close();
    }
    expect(alive(b.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  test('request_terminate_timeout kills the child mid-script: no STDOUT, the connection closes', { timeout: 20_000 }, async () => {
    const b = await startBackend(php({ requestTerminateTimeout: 1, sleepMs: 3000 }), join(root, 'p2'));
    try {
      const r = await ask(b, b.scriptFilename!);
      expect(r.bytes.toString('latin1')).not.toContain('slow script answered');
      expect(r.durationMs).toBeGreaterThanOrEqual(900);
      expect(r.durationMs).toBeLessThan(3000);
      await new Promise((res) => setTimeout(res, 200));
      expect(await b.log()).toMatch(/execution timed out|terminating/);
    } finally {
      await b.close();
    }
  });

  test('stopMaster: the master is gone and so is its socket', { timeout: 20_000 }, async () => {
    const b = await startBackend(php({ stopMaster: true }), join(root, 'p3'));
    try {
      expect(alive(b.pid)).toBe(false);
      expect(existsSync((b.address as { path: string }).path)).toBe(false);
    } finally {
      await b.close();
    }
  });

  test('abandon() kills the master and its children at once and removes the directory', { timeout: 20_000 }, async () => {
    const dir = join(root, 'p4');
    const b = await startBackend(php({ listen: 'tcp' }), dir);
    expect(b.address.kind).toBe('tcp');
    expect(alive(b.pid)).toBe(true);
    b.abandon();
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(b.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
