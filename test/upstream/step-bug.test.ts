/**
 * A bug inside a step (our code throwing, not the peer leaving) is no longer passed off as a
 * peer reset: it becomes an `error` event and one stderr report with its stack, the connection
 * is reset, and the upstream keeps serving. What peers do to a connection stays silent.
 *
 * No fault definition can carry a broken step to the executor any more (the catalogue compiles
 * every custom fault when it is added, YAML or code), so the broken step comes from a catalogue
 * whose compiler has a bug: a subclass that returns a step no compiler of ours would build.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { BadRequestError, PeerClosedError } from '../../src/faults/conn.js';
import { isPeerError, StepFailure } from '../../src/faults/executor.js';
import type { CompiledFault, ExchangeFaultDef } from '../../src/faults/fault.js';
import { Catalogue } from '../../src/faults/registry.js';
import type { Step } from '../../src/faults/steps.js';
import type { Stamped } from '../../src/upstream/events.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, openSession, rawRequest, waitUntil } from '../helpers/raw-client.js';

const OK_CLOSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

/** A write of something that is not bytes (it only has a length): socket.write throws ERR_INVALID_ARG_TYPE, as a bug in our own code would. */
const BROKEN_WRITE = { op: 'write', bytes: [{ length: 1 }], length: 1 } as unknown as Step;

const def = (id: string): ExchangeFaultDef => ({ id, layer: 'exchange', summary: `stands in for a step with a bug (${id})`, explain: 'test only', steps: ['close'] });

class CatalogueWithACompilerBug extends Catalogue {
  override compile(id: string, params: Readonly<Record<string, string | number>> = {}): CompiledFault {
    const ok = super.compile(id, params);
    if (id === 'bug-at-once') return { ...ok, steps: [BROKEN_WRITE] };
    if (id === 'bug-after-wait') return { ...ok, steps: [{ op: 'delay', ms: 5, ignoresFin: false }, BROKEN_WRITE] };
    return ok;
  }
}

let up: StartedUpstream;
const events: Stamped[] = [];
let stderr: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bg-step-bug-'));

beforeAll(async () => {
  const catalogue = new CatalogueWithACompilerBug();
  catalogue.add(def('bug-at-once'));
  catalogue.add(def('bug-after-wait'));
  up = await startUpstream({ catalogue, listenerFaults: [], unixPath: join(dir, 'up.sock') });
  up.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await up.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  stderr = [];
  events.length = 0;
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const errorEvents = () => events.filter((e): e is Extract<Stamped, { type: 'error' }> => e.type === 'error');

describe('a bug in a step', () => {
  test.each([
    ['bug-at-once', 'step 1 (write)'],
    ['bug-after-wait', 'step 2 (write)'],
  ])('%s: an error event, one stderr report with the stack, a reset, and the upstream keeps serving', async (id, step) => {
    const first = await rawRequest(GET(`/${id}`), { port: up.http.port });
    expect(first).toMatchObject({ end: 'reset' });
    expect(first.bytes.length).toBe(0);
    await waitUntil(() => errorEvents().length === 1, 2000, 'the error event');
    expect(errorEvents()[0]).toMatchObject({ type: 'error', fault: id, message: expect.stringMatching(new RegExp(`^${step.replace(/[()]/g, '\\$&')} threw: .*"chunk" argument`)) });
    expect(stderr.join('')).toMatch(new RegExp(`^badgateway: bug in fault ${id}, ${step.replace(/[()]/g, '\\$&')} threw: .*The connection was reset; the upstream keeps serving\\. Please report it:\\n.*\\n\\s+at `));

    // The same bug again: another event, but stderr has said it already.
    const again = await rawRequest(GET(`/${id}`), { port: up.http.port });
    expect(again.end).toBe('reset');
    await waitUntil(() => errorEvents().length === 2, 2000, 'the second error event');
    expect(stderr.filter((s) => s.includes(`bug in fault ${id}`))).toHaveLength(1);

    const ok = await rawRequest(GET('/healthy', 'Connection: close\r\n'), { port: up.http.port });
    expect(ok.bytes.toString('latin1')).toBe(OK_CLOSE);
  });

  test('over the unix socket the connection is closed (a unix socket has no RST), still reported', async () => {
    const r = await rawRequest(GET('/bug-at-once'), { port: 0, path: join(dir, 'up.sock') });
    expect(['fin', 'reset']).toContain(r.end);
    expect(r.bytes.length).toBe(0);
    await waitUntil(() => errorEvents().length === 1, 2000, 'the error event');
  });
});

describe('what peers do is data, not a bug', () => {
  test('resets mid-body, mid-response and mid-wait, a bad chunked body, and `reset` over a unix socket: no error event, nothing on stderr', async () => {
    // The client resets while the upstream reads its body.
    const midBody = openSession({ port: up.http.port });
    await midBody.connected;
    midBody.write(`POST /empty-reply HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(5000)}`);
    await sleep(20);
    midBody.socket.resetAndDestroy();
    // ... while the upstream dribbles a body.
    const midResponse = openSession({ port: up.http.port });
    await midResponse.connected;
    midResponse.write(GET('/slow-body?intervalMs=5'));
    await midResponse.waitFor((b) => b.length > 20, 3000);
    midResponse.socket.resetAndDestroy();
    // ... while the upstream waits before answering.
    const midWait = openSession({ port: up.http.port });
    await midWait.connected;
    midWait.write(GET('/slow-response?delayMs=2000'));
    await sleep(30);
    midWait.socket.resetAndDestroy();
    // A chunked body that does not parse, under a step that reads it.
    const badChunk = await rawRequest('POST /empty-reply HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', { port: up.http.port });
    expect(['fin', 'reset']).toContain(badChunk.end);
    // `reset` on a unix socket, where Node has no RST to send.
    const unixReset = await rawRequest(GET('/reset-after-request'), { port: 0, path: join(dir, 'up.sock') });
    expect(['fin', 'reset']).toContain(unixReset.end);

    await waitUntil(() => up.openConnections === 0, 3000, 'every connection closed');
    expect(errorEvents()).toEqual([]);
    expect(stderr).toEqual([]);
  });

  test('isPeerError tells what a peer causes from a bug', () => {
    const sys = (code: string) => Object.assign(new Error(code), { code });
    const peer = [sys('ECONNRESET'), sys('EPIPE'), sys('ERR_STREAM_DESTROYED'), sys('ERR_STREAM_WRITE_AFTER_END'), new PeerClosedError('gone'), new BadRequestError('bad chunk'), Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }), new Error('aborted')];
    const bugs = [new TypeError('x is undefined'), new RangeError('Invalid string length'), sys('ERR_INVALID_ARG_TYPE'), sys('ERR_INVALID_HANDLE_TYPE'), new StepFailure(0, 'write', new TypeError('t')), 'a string', null, undefined];
    expect(peer.filter((e) => !isPeerError(e))).toEqual([]);
    expect(bugs.filter((e) => isPeerError(e))).toEqual([]);
  });
});
