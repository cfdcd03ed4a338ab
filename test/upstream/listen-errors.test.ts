/** listen(): every way a bind fails is a BadgatewayError that names the real cause. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { startUpstream } from '../../src/upstream/upstream.js';
import { closeServer, listen } from '../../src/upstream/listen.js';

const dir = mkdtempSync(join(tmpdir(), 'bg-listen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a port outside 0-65535, from the library, is bad input rather than a RangeError', async () => {
  for (const port of [70000, -5, 1.5, Number.NaN]) {
    await expect(startUpstream({ port, listenerFaults: [] })).rejects.toMatchObject({ code: 'BG_BAD_OPTION', message: expect.stringMatching(/give a whole number from 0 to 65535/) });
  }
});

test.each([
  ['a missing directory', () => join(dir, 'nope', 's.sock'), 'BG_SOCKET_DIR_MISSING', /the directory .*nope does not exist\. Create it/],
  ['a file where a directory should be', () => (writeFileSync(join(dir, 'f'), ''), join(dir, 'f', 's.sock')), 'BG_SOCKET_DIR_MISSING', /a part of the path before the file name is not a directory/],
  ['a directory sockets cannot be created in', () => '/proc/bg-listen.sock', 'BG_ADDRESS_DENIED', /permission denied creating a socket file in \/proc/],
  ['a plain file at the path', () => (writeFileSync(join(dir, 'plain'), ''), join(dir, 'plain')), 'BG_ADDRESS_IN_USE', /a file already exists at that path and is not a socket/],
  ['a path too long for a unix socket', () => join(dir, 'x'.repeat(110)), 'BG_LISTEN_FAILED', /at most 107 bytes/],
])('a unix socket in %s', async (_what, path, code, message) => {
  const server = createServer();
  try {
    await expect(listen(server, { path: path() }, 'a test')).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(server.listening).toBe(false);
  } finally {
    await closeServer(server);
  }
});
