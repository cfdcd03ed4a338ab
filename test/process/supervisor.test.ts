/**
 * The supervisor of process-layer faults on real sockets and real child processes: the bytes a
 * client sees when the child is SIGKILLed mid-response, that a restart keeps the port, that a
 * frozen child is stopped (the kernel still accepts) and answers once continued, the recycle and
 * the drain, and that close() and abandon() leave no child alive.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import type { ProcessFaultDef } from '../../src/faults/fault.js';
import { startSupervisor, type StartedSupervisor } from '../../src/process/supervisor.js';
import { GET, rawRequest, tryConnect } from '../helpers/raw-client.js';

const catalogue = new Catalogue();
const fault = (id: string) => catalogue.get(id) as ProcessFaultDef;
const REQ = GET('/x', 'Connection: close\r\n');
const HEAD = /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 4096\r\n\r\n/;

/** The process state letter of /proc/<pid>/stat (R, S, T stopped, Z zombie), or 'gone'. */
function procState(pid: number): string {
  try {
    return /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))![1]!;
  } catch {
    return 'gone';
  }
}

/**
 * Whether pid is gone within ms without yielding to the event loop: what only synchronous work
 * already done (a signal sent) can bring about, as in a process 'exit' handler.
 */
function goneWithoutYielding(pid: number, ms = 1000): boolean {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const s = procState(pid);
    if (s === 'gone' || s === 'Z') return true;
  }
  return false;
}

async function gone(pid: number, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const s = procState(pid);
    if (s === 'gone' || s === 'Z') return true;
    await sleep(20);
  }
  return false;
}

let sup: StartedSupervisor | undefined;
afterEach(async () => {
  await sup?.close();
  sup = undefined;
});

describe('process supervisor', () => {
  test('kill after the head: the client gets the whole head, then FIN (the child had read the request)', async () => {
    sup = await startSupervisor({ fault: fault('process-kill-after-head') });
    const pid = sup.pid!;
    const r = await rawRequest(REQ, { port: sup.port });
    expect(r.bytes.toString('latin1')).toMatch(new RegExp(`${HEAD.source}$`));
    expect(r.end).toBe('fin');
    expect(await gone(pid)).toBe(true);
    await sleep(50);
    expect(sup.exits[0]).toMatchObject({ pid, signal: 'SIGKILL' });
  });

  test('kill after N body bytes: head + exactly sentBytes of the body, then FIN', async () => {
    sup = await startSupervisor({ fault: fault('process-kill-mid-body'), params: { sentBytes: 1000 } });
    const r = await rawRequest(REQ, { port: sup.port });
    const text = r.bytes.toString('latin1');
    expect(text).toMatch(HEAD);
    expect(text.replace(HEAD, '').length).toBe(1000);
    expect(r.end).toBe('fin');
  });

  test('a crash restarts on the same port after downMs: refused in between, healthy after', async () => {
    sup = await startSupervisor({ fault: fault('process-crash-restart'), params: { downMs: 1500 } });
    const { port } = sup;
    const first = sup.pid!;
    const r = await rawRequest(REQ, { port });
    expect(r.bytes.length).toBe(0);
    expect(['fin', 'reset']).toContain(r.end);
    expect(await tryConnect(port, 1000)).toBe('ECONNREFUSED');
    await sup.listening(5000, first);
    expect(sup.port).toBe(port);
    expect(sup.pid).not.toBe(first);
    const ok = await rawRequest(REQ, { port });
    expect(ok.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(sup.exits.map((e) => e.signal)).toEqual(['SIGKILL']);
  });

  test('freeze: stopped (state T) on the request, the kernel still accepts, the answer comes after SIGCONT', async () => {
    sup = await startSupervisor({ fault: fault('process-freeze'), params: { frozenMs: 600 } });
    const pid = sup.pid!;
    const pending = rawRequest(REQ, { port: sup.port });
    for (let i = 0; i < 50 && procState(pid) !== 'T'; i++) await sleep(10);
    expect(procState(pid)).toBe('T');
    expect(await tryConnect(sup.port, 500)).toBe('connected');
    const r = await pending;
    expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n[\s\S]{64}$/);
    expect(r.chunks[0]!.atMs).toBeGreaterThanOrEqual(590);
    expect(procState(pid)).not.toBe('T');
  });

  test('max-requests: each child answers `requests` in full, then exits 0, and a new one takes the port', async () => {
    sup = await startSupervisor({ fault: fault('process-max-requests'), params: { requests: 2, restartMs: 300 } });
    const first = sup.pid!;
    for (let i = 0; i < 2; i++) {
      const r = await rawRequest(REQ, { port: sup.port });
      expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n[\s\S]{64}$/);
    }
    expect(await gone(first)).toBe(true);
    expect(await tryConnect(sup.port, 1000)).toBe('ECONNREFUSED');
    await sup.listening(5000, first);
    expect(sup.exits[0]).toMatchObject({ pid: first, code: 0, signal: null });
    expect((await rawRequest(REQ, { port: sup.port })).bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  test('restarts back to back: a standby promoted while it is still starting listens once it can', async () => {
    // requests: 1 and no gap: each request promotes a standby that was started a moment ago.
    sup = await startSupervisor({ fault: fault('process-max-requests'), params: { requests: 1, restartMs: 0 } });
    for (let i = 0; i < 4; i++) {
      const pid = sup.pid!;
      const r = await rawRequest(REQ, { port: sup.port });
      expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK/);
      await sup.listening(10_000, pid);
    }
    expect(sup.exits.filter((e) => e.code === 0)).toHaveLength(4);
  }, 60_000);

  test('drain: the request in flight completes while new connections are refused', async () => {
    sup = await startSupervisor({ fault: fault('process-drain'), params: { inFlightMs: 500, restartMs: 300 } });
    const first = sup.pid!;
    let answered = false;
    const pending = rawRequest(REQ, { port: sup.port }).finally(() => (answered = true));
    // A connect refused while the request that started the drain is still unanswered.
    let refusedInFlight = false;
    for (let i = 0; i < 40 && !answered && !refusedInFlight; i++) {
      refusedInFlight = (await tryConnect(sup.port, 1000)) === 'ECONNREFUSED' && !answered;
      if (!refusedInFlight) await sleep(25);
    }
    expect(refusedInFlight).toBe(true);
    const r = await pending;
    expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*Connection: close[\s\S]*\r\n\r\n[\s\S]{64}$/);
    expect(r.end).toBe('fin');
    await sup.listening(5000, first);
    expect(sup.exits[0]).toMatchObject({ pid: first, code: 0 });
  });

  test('close() kills a frozen child, and no restart follows', async () => {
    sup = await startSupervisor({ fault: fault('process-freeze'), params: { frozenMs: 10_000 } });
    const pid = sup.pid!;
    void rawRequest(REQ, { port: sup.port, timeoutMs: 2000 });
    for (let i = 0; i < 100 && procState(pid) !== 'T'; i++) await sleep(10);
    expect(procState(pid)).toBe('T');
    const all = [...sup.pids];
    expect(all.length).toBeGreaterThanOrEqual(1);
    await sup.close();
    for (const p of all) expect(await gone(p, 100)).toBe(true);
    await sleep(300);
    expect(sup.pids).toEqual(all);
  });

  test('abandon() kills synchronously, in the middle of a restart gap too', async () => {
    sup = await startSupervisor({ fault: fault('process-crash-restart'), params: { downMs: 200 } });
    await rawRequest(REQ, { port: sup.port });
    const all = [...sup.pids];
    sup.abandon();
    for (const p of all) expect(goneWithoutYielding(p)).toBe(true);
    await sleep(500);
    // The gap's timer was cleared: no child was started or promoted after abandon().
    expect(sup.pids).toEqual(all);
    const s2 = await startSupervisor({ fault: fault('process-max-requests') });
    await sleep(300);
    const both = [...s2.pids];
    s2.abandon();
    for (const p of both) expect(goneWithoutYielding(p)).toBe(true);
  });

  test('a bad parameter is an InputError that names it and its bounds', async () => {
    await expect(startSupervisor({ fault: fault('process-freeze'), params: { frozenMs: -1 } })).rejects.toThrow(/frozenMs must be a whole number from 1 to 60000/);
    await expect(startSupervisor({ fault: fault('process-freeze'), params: { nope: 1 } })).rejects.toThrow(/no parameter "nope"; its parameters: atRequest, frozenMs/);
    await expect(startSupervisor({ fault: fault('process-kill-mid-body'), params: { sentBytes: 4096 } })).rejects.toThrow(/sentBytes \(4096\) must be less than bodyBytes/);
  });
});
