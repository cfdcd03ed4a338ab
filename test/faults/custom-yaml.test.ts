/**
 * Faults a user writes in YAML: loaded, served by the upstream and checked on
 * the wire; and the errors a user gets for bad input (file:line:column).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StartError } from '../../src/errors.js';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import { Catalogue, loadFaultFile, loadFaultText } from '../../src/faults/registry.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { closeServer, listen } from '../../src/upstream/listen.js';
import { loopTurn, openSession, rawRequest, waitUntil } from '../helpers/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'bg-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A `${name}` placeholder, spelt out so the template literal below leaves it alone. */
const P = (name: string) => '$' + `{${name}}`;

// Written the way a user writes it: YAML double-quoted escapes for CR LF, \x01 and \0.
const FILE_TEXT = String.raw`faults:
  - id: teapot-slowly
    summary: A hand-written 418, a pause, a dribbled body, then a half-close.
    params:
      status: 418
      pauseMs: 60
    steps:
      - read: body
      - write: "HTTP/1.1 ${P('status')} I'm a teapot\r\nX-Ctl: a\x01b\0c\r\nContent-Length: 6\r\n\r\n"
      - delay: ${P('pauseMs')}
      - dribble: { data: "tea\r\n!", chunkBytes: 2, intervalMs: 30 }
      - half-close
  - id: five-bytes-then-reset
    summary: Waits for five raw bytes after the head, answers in every byte form, then resets.
    steps:
      - read: { bytes: 5 }
      - write:
          - head: { status: 502, reason: Bad Gateway Indeed, headers: { X-A: 1 } }
          - hex: "de ad be ef"
          - repeat: "z"
            times: 3
          - chunk: "abc"
          - last-chunk: true
      # As in the built-ins: a Node (libuv) reader that gets data and RST in one
      # wakeup reports end-of-stream, so the RST comes a little after the bytes.
      - delay: 20
      - reset
`;

const INLINE = String.raw`id: respond-then-hang
summary: A complete chunked answer, then the connection is held open.
steps:
  - respond: { status: 200, chunked: true, body: "chunky", headers: [[X-Twice, a], [X-Twice, b]] }
  - hang
`;

let up: StartedUpstream;
let catalogue: Catalogue;
/** The upstream's own view of its connections, by the client's local port. */
const connByPort = new Map<number, number>();
const closedConns = new Set<number>();
const serverSide = (localPort: number): 'open' | 'closed' | 'unknown' => {
  const id = connByPort.get(localPort);
  return id === undefined ? 'unknown' : closedConns.has(id) ? 'closed' : 'open';
};

beforeAll(async () => {
  const file = join(dir, 'custom.yaml');
  writeFileSync(file, FILE_TEXT);
  catalogue = new Catalogue();
  for (const def of [...(await loadFaultFile(file)), ...loadFaultText(INLINE, 'inline.yaml')]) catalogue.add(def);
  up = await startUpstream({
    catalogue,
    listenerFaults: [],
    routes: [{ pathPrefix: '/coffee', fault: 'teapot-slowly', params: { status: 299 } }],
  });
  up.events.subscribe((e) => {
    if (e.type === 'connection') connByPort.set(Number(e.remote.split(':').pop()), e.conn);
    if (e.type === 'close') closedConns.add(e.conn);
  });
});
afterAll(async () => {
  await up?.close();
});

const TEAPOT = (status: number) => `HTTP/1.1 ${status} I'm a teapot\r\nX-Ctl: a\x01b\x00c\r\nContent-Length: 6\r\n\r\n`;

describe('custom faults on the wire', () => {
  test('loads with its defaults', () => {
    const def = catalogue.get('teapot-slowly');
    expect(def).toMatchObject({ layer: 'exchange', params: { status: 418, pauseMs: 60 } });
    expect(catalogue.get('respond-then-hang').summary).toBe('A complete chunked answer, then the connection is held open.');
  });

  test('escapes, a delay, a dribble and a half-close: exact bytes, timing, FIN while still reading', async () => {
    const s = openSession({ port: up.http.port, allowHalfOpen: true });
    try {
      await s.connected;
      const localPort = s.socket.localPort!;
      s.write('POST /teapot-slowly HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody');
      const end = await s.waitEnd(2000);
      if (end === 'timeout') throw new Error('no FIN');
      expect(end.end).toBe('fin');
      const got = s.bytes();
      const head = TEAPOT(418);
      expect(got.toString('latin1')).toBe(head + 'tea\r\n!');
      const ctl = head.indexOf('X-Ctl: a') + 'X-Ctl: a'.length;
      expect(got.subarray(ctl, ctl + 3)).toEqual(Buffer.from([0x01, 0x62, 0x00]));
      // The head at once; the body only after the delay, then 2 bytes every 30 ms.
      const bodyTimes: number[] = [];
      let off = 0;
      for (const c of s.chunks) {
        for (let i = 0; i < c.size; i++, off++) if (off >= head.length && (off - head.length) % 2 === 0) bodyTimes.push(c.atMs);
      }
      expect(bodyTimes).toHaveLength(3);
      // Lower bounds from the moment we connected: the request, and so every timer of the script,
      // started after it. (Measured from the head's arrival instead, a busy moment that delays
      // the head's 'data' event but not the body's shortens the gap: it once read 55 ms for 60.)
      expect(bodyTimes[0]!).toBeGreaterThanOrEqual(60 - 2);
      expect(bodyTimes[1]!).toBeGreaterThanOrEqual(60 + 30 - 2);
      expect(bodyTimes[2]!).toBeGreaterThanOrEqual(60 + 60 - 2);
      // Half-closed, not closed: the upstream keeps the connection and still reads what we send...
      s.write('still talking');
      await new Promise((r) => setTimeout(r, 50));
      expect(s.errors).toEqual([]);
      expect(serverSide(localPort)).toBe('open');
      // ...and lets go once we end our side.
      s.socket.end();
      await waitUntil(() => serverSide(localPort) === 'closed', 1000, 'the upstream closing its side');
    } finally {
      s.destroy();
    }
  });

  test('params: a query-string override and a route override', async () => {
    const [query, route] = await Promise.all([
      rawRequest('GET /teapot-slowly?status=503&pauseMs=0&unknown=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', { port: up.http.port }),
      rawRequest('GET /coffee/pot HTTP/1.1\r\nHost: t\r\n\r\n', { port: up.http.port }),
    ]);
    expect([query.end, query.bytes.toString('latin1')]).toEqual(['fin', TEAPOT(503) + 'tea\r\n!']);
    expect(query.chunks[0]!.atMs).toBeLessThan(50);
    expect([route.end, route.bytes.toString('latin1')]).toEqual(['fin', TEAPOT(299) + 'tea\r\n!']);
  });

  test('read bytes: nothing until five raw bytes after the head, then every byte form, then RST', async () => {
    const s = openSession({ port: up.http.port });
    try {
      await s.connected;
      s.write('GET /five-bytes-then-reset HTTP/1.1\r\nHost: t\r\n\r\nabc');
      expect(await s.quietFor(100)).toBe('quiet');
      s.write('de');
      const end = await s.waitEnd(2000);
      if (end === 'timeout') throw new Error('no reset');
      expect(end.end).toBe('reset');
      expect(s.bytes()).toEqual(
        Buffer.concat([
          Buffer.from('HTTP/1.1 502 Bad Gateway Indeed\r\nX-A: 1\r\n\r\n'),
          Buffer.from([0xde, 0xad, 0xbe, 0xef]),
          Buffer.from('zzz3\r\nabc\r\n0\r\n\r\n'),
        ]),
      );
    } finally {
      s.destroy();
    }
  });

  test('respond then hang: the whole response, then nothing with the connection open', async () => {
    const r = await rawRequest('GET /respond-then-hang HTTP/1.1\r\nHost: t\r\n\r\n', { port: up.http.port, timeoutMs: 200 });
    expect([r.end, r.bytes.toString('latin1')]).toEqual([
      'timeout',
      'HTTP/1.1 200 OK\r\nX-Twice: a\r\nX-Twice: b\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunky\r\n0\r\n\r\n',
    ]);
  });
});

describe('errors a user can act on', () => {
  const loadError = (text: string, file: string): { code?: string; message: string } => {
    try {
      loadFaultText(text, file);
    } catch (err) {
      return err as { code?: string; message: string };
    }
    throw new Error('expected the fault text to be rejected');
  };

  test('invalid YAML syntax: the position the parser stopped at', () => {
    expect(loadError('id: bad-escape\nsteps:\n  - write: "a\\qb"\n', 'esc.yaml')).toMatchObject({
      code: 'BG_YAML_SYNTAX',
      message: 'esc.yaml:3:14: invalid YAML: Invalid escape sequence \\q',
    });
    expect(loadError('id: tabs\nsteps:\n\t- close\n', 'tab.yaml')).toMatchObject({
      code: 'BG_YAML_SYNTAX',
      message: 'tab.yaml:3:1: invalid YAML: Tabs are not allowed as indentation',
    });
  });

  test('an unknown step name points at the name', () => {
    const text = 'id: typo\nsteps:\n  - read: body\n  - wirte: "HTTP/1.1 200 OK\\r\\n\\r\\n"\n';
    expect(loadError(text, 'typo.yaml')).toMatchObject({
      code: 'BG_INVALID_FAULT',
      message:
        'typo.yaml:4:5: unknown step "wirte"; steps are: read, write, delay, dribble, close, reset, half-close, hang, respond, keep-alive, websocket-accept, fcgi-read, fcgi-stdout, fcgi-stderr, fcgi-end, fcgi-respond, fcgi-record, h2-read, h2-settings, h2-headers, h2-data, h2-rst-stream, h2-goaway, h2-window-update, h2-frame, h2-respond, grpc-reply',
    });
    expect(loadError('id: typo\nsteps:\n  - close\n  - hangg\n', 'bare.yaml').message).toMatch(/^bare\.yaml:4:5: unknown step "hangg"/);
  });

  test('a negative delay points at the number', () => {
    const e = loadError('id: negative\nsteps:\n  - delay: -5\n', 'neg.yaml');
    expect(e.code).toBe('BG_INVALID_FAULT');
    expect(e.message).toMatch(/^neg\.yaml:3:12: .*>=\s?0/);
  });

  test('a bad hex string points at the string', () => {
    expect(loadError('id: bad-hex\nsteps:\n  - write:\n      hex: "15 03 0"\n', 'hex.yaml')).toMatchObject({
      code: 'BG_INVALID_FAULT',
      message: 'hex.yaml:4:12: hex must be pairs of hex digits (spaces allowed)',
    });
  });

  test('a missing steps list points at the fault that lacks it', () => {
    const text = 'faults:\n  - id: fine\n    steps: [close]\n  - id: no-steps\n    summary: nothing to do\n';
    expect(loadError(text, 'list.yaml')).toMatchObject({ code: 'BG_INVALID_FAULT', message: 'list.yaml:4:5: steps must be a non-empty list' });
    expect(loadError('id: empty\nsteps: []\n', 'empty.yaml').message).toBe('empty.yaml:2:8: steps must be a non-empty list');
  });

  test('an unknown key in a fault points at the key', () => {
    expect(loadError('id: typo-key\nstpes:\n  - close\n', 'key.yaml')).toMatchObject({
      code: 'BG_INVALID_FAULT',
      message: 'key.yaml:2:1: unknown key "stpes"; a fault has id, summary, explain, params, steps, ignoresPeer, protocol',
    });
    expect(loadError('faults:\n  - id: a\n    steps: [close]\n    colour: red\n', 'keys.yaml').message).toMatch(/^keys\.yaml:4:5: unknown key "colour"/);
  });

  test('an unknown parameter points at the placeholder and lists the known ones', () => {
    const text = 'id: p\nparams: { delayMs: 10 }\nsteps:\n  - delay: ${delyMs}\n';
    expect(loadError(text, 'param.yaml').message).toBe('param.yaml:4:12: unknown parameter ${delyMs}; known: delayMs');
  });

  test('an unreadable file names the path', async () => {
    const missing = join(dir, 'nope.yaml');
    await expect(loadFaultFile(missing)).rejects.toMatchObject({ code: 'BG_FILE_UNREADABLE', message: `cannot read ${missing}: no such file. Check the path.` });
  });

  test('an error in a file names the file', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'id: bad\nsteps:\n  - delay: 5\n  - reset: now\n');
    await expect(loadFaultFile(file)).rejects.toMatchObject({
      code: 'BG_INVALID_FAULT',
      message: `${file}:4:12: reset takes no argument; write it as a bare name: - reset`,
    });
  });

  test('an unknown fault id lists the closest ids', () => {
    let err: { code?: string; message: string } | undefined;
    try {
      catalogue.get('empty-replay');
    } catch (e) {
      err = e as { code?: string; message: string };
    }
    expect(err?.code).toBe('BG_UNKNOWN_FAULT');
    expect(err?.message).toMatch(/^unknown fault "empty-replay"\. Closest: empty-reply, /);
    expect(() => catalogue.get('teapot-slowy')).toThrow(/Closest: teapot-slowly/);
    expect(() => new Catalogue(BUILTIN_FAULTS).compile('dns-nxdomain')).toThrow(expect.objectContaining({ code: 'BG_NOT_EXCHANGE_FAULT' }));
  });

  test('a route to an unknown fault or param is refused before anything listens', async () => {
    await expect(startUpstream({ listenerFaults: [], routes: [{ pathPrefix: '/x', fault: 'never-respnd' }] })).rejects.toMatchObject({
      code: 'BG_UNKNOWN_FAULT',
      message: expect.stringContaining('Closest: never-respond'),
    });
    await expect(startUpstream({ listenerFaults: [], routes: [{ fault: 'slow-body', params: { intervalMS: 5 } }] })).rejects.toMatchObject({
      code: 'BG_INVALID_FAULT',
      message: expect.stringContaining('has no parameter "intervalMS"; its parameters: intervalMs'),
    });
  });

  test('a port in use: a user error naming the port and what to do', async () => {
    const blocker = createServer();
    await listen(blocker, { host: '127.0.0.1', port: 0 }, 'test');
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startUpstream({ port, listenerFaults: [] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartError);
      const e = err as StartError;
      expect(e.code).toBe('BG_ADDRESS_IN_USE');
      expect(e.userError).toBe(true);
      expect(e.message).toContain(`127.0.0.1:${port}`);
      expect(e.message).toMatch(/already in use/);
      expect(e.message).toMatch(/pick another port \(0 picks a free one\)/);
    } finally {
      await closeServer(blocker);
    }
  });

  test('a unix socket path in use: nothing of the failed start is left listening', async () => {
    const path = join(dir, 'taken.sock');
    const blocker = createServer();
    await listen(blocker, { path }, 'test');
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    await loopTurn();
    const before = servers();
    try {
      await expect(startUpstream({ unixPath: path, listenerFaults: [] })).rejects.toMatchObject({
        code: 'BG_ADDRESS_IN_USE',
        message: expect.stringContaining(`cannot listen on ${path}`),
      });
      // The TCP listener it opened first was closed again (a closed handle is released in the loop's close phase).
      await loopTurn();
      expect(servers()).toBe(before);
    } finally {
      await closeServer(blocker);
    }
  });
});
