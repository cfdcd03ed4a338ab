/**
 * The DNS responder's TCP guards, set through the public startUpstream options, report on the
 * upstream's event bus as `guard` events, like the HTTP listener's guards do.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startUpstream, type Upstream } from '../../src/api/upstream.js';
import type { Stamped } from '../../src/upstream/events.js';

let up: Upstream | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await up?.close();
  up = undefined;
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    sockets.push(s);
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

test('a DNS-over-TCP connection past maxTcpConnections and one idle past tcpIdleTimeoutMs each give a guard event', async () => {
  up = await startUpstream({ listenerFaults: [], dns: { tcpIdleTimeoutMs: 300, maxTcpConnections: 1 } });
  const guards: Stamped[] = [];
  up.events.subscribe((e) => e.type === 'guard' && guards.push(e));
  const first = await open(up.dns!.port);
  const firstPort = first.localPort; // a closed socket forgets it
  const second = await open(up.dns!.port);
  const secondPort = second.localPort;
  await closed(second);
  await closed(first);
  expect(guards).toEqual([
    expect.objectContaining({ type: 'guard', guard: 'dns-connection-cap', listener: 'dns', limit: 1, remote: `127.0.0.1:${secondPort}` }),
    expect.objectContaining({ type: 'guard', guard: 'dns-idle-timeout', listener: 'dns', limit: 300, remote: `127.0.0.1:${firstPort}` }),
  ]);
});

test('a control eventBufferBytes below 1 KiB is refused with BG_BAD_OPTION', async () => {
  await expect(startUpstream({ listenerFaults: [], dns: false, control: { eventBufferBytes: 0 } })).rejects.toMatchObject({ code: 'BG_BAD_OPTION' });
});

test('dns options that are out of range are refused with BG_BAD_OPTION', async () => {
  await expect(startUpstream({ listenerFaults: [], dns: { maxTcpConnections: 0 } })).rejects.toMatchObject({ code: 'BG_BAD_OPTION' });
});
