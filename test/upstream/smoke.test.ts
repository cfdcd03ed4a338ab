import { afterAll, beforeAll, expect, test } from 'vitest';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, rawRequest, tryConnect } from '../helpers/raw-client.js';

let up: StartedUpstream;
beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  await up.close();
});

test('healthy answers 200', async () => {
  const r = await rawRequest(GET('/healthy', 'Connection: close\r\n'), { port: up.http.port });
  expect(r.bytes.toString('latin1')).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n');
  expect(r.end).toBe('fin');
});

test('empty-reply and reset', async () => {
  const a = await rawRequest(GET('/empty-reply'), { port: up.http.port });
  expect(a.end).toBe('fin');
  expect(a.bytes.length).toBe(0);
  const b = await rawRequest(GET('/reset-after-request'), { port: up.http.port });
  expect(b.end).toBe('reset');
});

test('listener faults', async () => {
  const port = (name: string) => up.listeners.find((l) => l.name === name)!.port!;
  expect(await tryConnect(port('connect-refused'), 500)).toBe('ECONNREFUSED');
  expect(await tryConnect(port('accept-queue-full'), 500)).toBe('timeout');
  const r = await rawRequest(GET('/'), { port: port('reset-on-accept') });
  expect(['reset', 'error']).toContain(r.end);
  const c = await rawRequest(GET('/'), { port: port('close-on-accept') });
  expect(c.end).toBe('fin');
});
