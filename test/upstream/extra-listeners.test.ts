/**
 * extraListeners: the upstream's HTTP (and FastCGI and HTTP/2) side on several ports with one routing table,
 * so a burst of connects is accepted a port at a time instead of one per event-loop turn
 * (libuv 1.45+ accepts one connection per listening socket per turn; bench/accept-queue.mjs).
 */
import { connect } from 'node:http2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { fcgiRequest, responseOf } from '../helpers/fcgi-client.js';
import { GET, rawRequest } from '../helpers/raw-client.js';

let up: StartedUpstream;
beforeAll(async () => {
  up = await startUpstream({ extraListeners: 3, fastcgiPort: 0, h2Port: 0, listenerFaults: [], routes: [{ pathPrefix: '/s/x', fault: 'empty-reply' }] });
});
afterAll(async () => {
  await up?.close();
});

test('four HTTP ports and four FastCGI ports, the first of each the one it always had', () => {
  expect(up.httpPorts).toHaveLength(4);
  expect(up.httpPorts[0]).toBe(up.http.port);
  expect(up.fastcgiPorts).toHaveLength(4);
  expect(up.fastcgiPorts[0]).toBe(up.listeners.find((l) => l.name === 'fastcgi')!.port);
  expect(up.h2Ports).toHaveLength(4);
  expect(up.h2Ports[0]).toBe(up.listeners.find((l) => l.name === 'h2')!.port);
  expect(new Set([...up.httpPorts, ...up.fastcgiPorts, ...up.h2Ports]).size).toBe(12);
});

test('every HTTP/2 port speaks h2c: a client with prior knowledge gets its answer', async () => {
  for (const port of up.h2Ports) {
    const client = connect(`http://127.0.0.1:${port}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = client.request({ ':path': '/h2-healthy' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      client.close();
    }
  }
});

test('every HTTP port serves the same routes', async () => {
  for (const port of up.httpPorts) {
    const healthy = await rawRequest(GET('/', 'Connection: close\r\n'), { port });
    expect(healthy.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const routed = await rawRequest(GET('/s/x/'), { port });
    expect([routed.bytes.length, routed.end]).toEqual([0, 'fin']);
  }
});

test('every FastCGI port speaks FastCGI', async () => {
  for (const port of up.fastcgiPorts) {
    const r = await rawRequest(fcgiRequest({ requestId: 1, keepConn: false, uri: '/fcgi-healthy' }), { port });
    expect(responseOf(r.bytes, 1).stdout).toMatch(/^Status: 200 OK\r\n/);
  }
});

test('a count out of range is refused with what to give', async () => {
  const err = await startUpstream({ extraListeners: -1, listenerFaults: [] }).then(
    (u) => u.close(),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).message).toMatch(/extraListeners must be a whole number from 0 to 1024, not -1/);
});
