/**
 * `serve`'s listener guards from the command line: the flags, the warnings on stderr, and the
 * descriptors kept for the control API and the DNS responder when the HTTP side is full, in a
 * process whose descriptor limit is small (prlimit).
 */
import { spawn, spawnSync } from 'node:child_process';
import dns from 'node:dns';
import { connect, type Socket } from 'node:net';
import { expect, test } from 'vitest';
import { CLI, runCli, startCli, waitForOutput } from '../helpers/cli.js';
import { fcgiRequest } from '../helpers/fcgi-client.js';
import { GET, openSession, rawRequest } from '../helpers/raw-client.js';

const QUIET = ['--listener-faults', 'none', '--json'];
const NO_STACK = /\n\s+at /;

test('bad guard flags: exit 2, the flag and what to give', { timeout: 60_000 }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--head-timeout-ms', '0'], /--head-timeout-ms 0 is out of range: give milliseconds from 1 to 2147483647/],
    [['--head-timeout-ms', 'soon'], /--head-timeout-ms soon is not a whole number/],
    [['--max-head-bytes', '10'], /--max-head-bytes 10 is out of range: give bytes from 64 to 1048576/],
    [['--max-connections', '0'], /--max-connections 0 is out of range: give a number from 1 to \d+, this process's descriptor limit \(ulimit -n/],
    [['--max-connections', '99999999'], /--max-connections 99999999 is out of range/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['serve', ...QUIET, '--no-dns', '--no-control', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(NO_STACK);
  }
});

test('serve --head-timeout-ms / --max-head-bytes / --max-connections: applied, shown in --json, and a guard that acts is a line on stderr', { timeout: 30_000 }, async () => {
  const cli = startCli(['serve', ...QUIET, '--no-dns', '--no-control', '--head-timeout-ms', '200', '--max-head-bytes', '512', '--max-connections', '2']);
  try {
    await waitForOutput(cli.output, /\}\n/);
    const info = JSON.parse(cli.output().split('\n')[0]!);
    expect(info.guards).toEqual({ headTimeoutMs: 200, maxHeadBytes: 512, maxConnections: 2 });
    const port = info.upstream[0].port;

    const slow = openSession({ port });
    await slow.connected;
    slow.write('GET /healthy HTTP/1.1\r\n');
    const held = openSession({ port });
    await held.connected;
    const refused = await rawRequest(GET('/healthy'), { port, timeoutMs: 2000 });
    expect(refused.bytes.length).toBe(0);
    const end = await slow.waitEnd(2000);
    expect(end === 'timeout' ? end : end.end).toBe('fin');
    expect(slow.bytes().toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    held.destroy();
    // Both held connections are gone (timed out, closed), so the cap has room again once the upstream has seen them close.
    let big = await rawRequest(GET('/healthy', `X-Big: ${'b'.repeat(600)}\r\n`), { port });
    for (let i = 0; i < 20 && big.bytes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      big = await rawRequest(GET('/healthy', `X-Big: ${'b'.repeat(600)}\r\n`), { port });
    }
    expect(big.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);

    await waitForOutput(cli.output, /did not send a whole request head within 200 ms/);
    const stderr = cli.output().slice(cli.output().indexOf('\n') + 1);
    expect(stderr).toMatch(/^warning: 1 request head\(s\) larger than 512 bytes \(--max-head-bytes\): answered 431 and closed\.$/m);
    expect(stderr).toMatch(/^warning: the http listener holds 2 connections \(--max-connections\); 1 new connection\(s\) closed at accept\.$/m);
    expect(stderr).toMatch(/^warning: \d connection\(s\) did not send a whole request head within 200 ms \(--head-timeout-ms\): closed, with a 408 if they had sent part of one\.$/m);
  } finally {
    cli.child.kill('SIGKILL');
  }
});

const hasPrlimit = !spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).error;

test.skipIf(!hasPrlimit || process.platform !== 'linux')(
  'with a descriptor limit of 256 and 400 connections at the HTTP port, the control API and DNS (UDP and TCP) still answer, and serve says the cap was reached',
  { timeout: 60_000 },
  async () => {
    // Node raises its soft limit to the hard one at startup: both are set.
    const child = spawn('prlimit', ['--nofile=256:256', process.execPath, CLI, 'serve', ...QUIET], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const sockets: Socket[] = [];
    try {
      await waitForOutput(() => out, /\}\n/);
      const info = JSON.parse(out.split('\n')[0]!);
      const port = info.upstream[0].port;
      await Promise.all(
        Array.from(
          { length: 400 },
          () =>
            new Promise<void>((resolve) => {
              const s = connect({ host: '127.0.0.1', port });
              sockets.push(s);
              s.on('error', () => resolve());
              s.on('connect', () => resolve());
            }),
        ),
      );
      // Let the upstream accept (or refuse) them all before asking the others.
      await new Promise((r) => setTimeout(r, 300));

      const faults = await fetch(`${info.control.url}/api/faults`, { signal: AbortSignal.timeout(3000) });
      expect(faults.status).toBe(200);
      const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
      resolver.setServers([`${info.dns.host}:${info.dns.port}`]);
      expect(await resolver.resolve4(info.dns.names['dns-ok'])).toEqual(['127.0.0.1']);
      expect(await dnsOverTcp(info.dns.port, info.dns.names['dns-ok'])).toBe(true);
      expect(child.exitCode).toBe(null);
      // 256 - 128 kept back; the HTTP side said it was full.
      expect(info.guards?.maxConnections).toBe(128);
      await waitForOutput(() => err, /^warning: the http listener holds 128 connections \(--max-connections\); \d+ new connection\(s\) closed at accept\.$/m, 5000);
    } finally {
      for (const s of sockets) s.destroy();
      child.kill('SIGKILL');
    }
  },
);

/** One A query over TCP (RFC 7766 framing); true when an answer with the same id comes back. */
function dnsOverTcp(port: number, name: string): Promise<boolean> {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const msg = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish(false), 3000);
    let got = Buffer.alloc(0);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    s.on('error', () => finish(false));
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg])));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) finish(got.readUInt16BE(2) === 0x1234);
    });
  });
}

test('serve --dns-tcp-idle-ms / --dns-max-tcp-connections: applied to the DNS responder, each guard an event', { timeout: 30_000 }, async () => {
  const cli = startCli(['serve', ...QUIET, '--no-control', '--events', '--dns-tcp-idle-ms', '300', '--dns-max-tcp-connections', '1']);
  const held: Socket[] = [];
  try {
    await waitForOutput(cli.output, /\}\n/);
    const info = JSON.parse(cli.output().split('\n')[0]!);
    const port = info.dns.port;
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
        held.push(s);
      });
    const first = await open();
    const firstClosed = new Promise((r) => first.once('close', r));
    // Only one at once: the second is closed at accept, while the first waits for its idle time.
    const second = await open();
    await new Promise((r) => second.once('close', r));
    const started = performance.now();
    await firstClosed;
    expect(performance.now() - started).toBeLessThan(5000);
    await waitForOutput(cli.output, /"guard":"dns-idle-timeout"/);
    expect(cli.output()).toMatch(/"type":"guard","guard":"dns-connection-cap","listener":"dns","limit":1,/);
    expect(cli.output()).toMatch(/"type":"guard","guard":"dns-idle-timeout","listener":"dns","limit":300,/);
  } finally {
    for (const s of held) s.destroy();
    cli.child.kill('SIGKILL');
  }
});

test('serve --fastcgi-port: PARAMS past --max-head-bytes are closed, and the warning says so (no 431 on FastCGI)', { timeout: 30_000 }, async () => {
  const cli = startCli(['serve', ...QUIET, '--no-dns', '--no-control', '--fastcgi-port', '0', '--max-head-bytes', '1024']);
  try {
    await waitForOutput(cli.output, /\}\n/);
    const info = JSON.parse(cli.output().split('\n')[0]!);
    const port = info.upstream.find((l: { name: string }) => l.name === 'fastcgi').port;
    const r = await rawRequest(fcgiRequest({ params: [['HTTP_COOKIE', 'c'.repeat(10_000)]] }), { port, timeoutMs: 3000 });
    expect(r.bytes.length).toBe(0);
    await waitForOutput(cli.output, /FastCGI request/);
    expect(cli.output()).toMatch(/^warning: 1 FastCGI request\(s\) with PARAMS larger than 1024 bytes \(--max-head-bytes\): closed\.$/m);
    expect(cli.output()).not.toMatch(/answered 431/);
  } finally {
    cli.child.kill('SIGKILL');
  }
});
