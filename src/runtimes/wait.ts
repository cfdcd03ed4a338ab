/** Readiness checks with a deadline. */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostPort } from '../wire/host-port.js';

/** Resolves true once GET path answers 200 (or, without a path, once the port accepts), false at the deadline. */
export async function waitReady(host: string, port: number, path: string | undefined, timeoutMs: number, isDead: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isDead()) return false;
    if (await check(host, port, path)) return true;
    await sleep(50);
  }
  return false;
}

function check(host: string, port: number, path: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 1000);
    s.on('error', () => done(false));
    s.on('connect', () => {
      if (path === undefined) return done(true);
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${hostPort(host, port)}\r\nConnection: close\r\n\r\n`);
    });
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done(/^HTTP\/1\.[01] 200 /.test(got));
    });
    s.on('end', () => done(false));
  });
}
