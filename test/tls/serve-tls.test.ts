/** `badgateway serve` with TLS: the healthy TLS listener, the TLS listener faults, and the CA a gateway verifies against. */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli, startCli, waitForOutput } from '../helpers/cli.js';
import { tlsExchange } from './wire.js';
import { readFileSync } from 'node:fs';

test('serve --tls-port --tls-dir: every route over TLS with the CA in the folder; a TLS listener fault on its own port', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-serve-tls-'));
  try {
    const cli = startCli(['serve', '--json', '--no-dns', '--no-control', '--tls-port', '0', '--tls-dir', dir, '--listener-faults', 'tls-expired']);
    await waitForOutput(cli.output, /\}\n/, 40_000);
    const info = JSON.parse(cli.output().split('\n')[0]!);
    expect(info.tls).toEqual({ caFile: join(dir, 'tls-ca.pem'), serverName: 'upstream.badgateway.test', clientCertFile: join(dir, 'tls-client.pem'), clientKeyFile: join(dir, 'tls-client-key.pem') });
    const tls = info.upstream.find((l: { name: string }) => l.name === 'tls');
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(info.tls.caFile, 'latin1');
    const ok = await tlsExchange(tls.port, { rejectUnauthorized: true, ca, request: 'GET /empty-reply HTTP/1.1\r\nHost: x\r\n\r\n' });
    expect([ok.authorized, ok.body]).toEqual([true, '']);
    const expired = info.listenerFaults.find((l: { name: string }) => l.name === 'tls-expired');
    expect((await tlsExchange(expired.port, { rejectUnauthorized: true, ca })).error?.code).toBe('CERT_HAS_EXPIRED');
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
    // The folder is the user's: the certificates stay for the gateway's config.
    expect(readdirSync(dir).sort()).toEqual(['tls-ca.pem', 'tls-client-key.pem', 'tls-client.pem']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve without --tls-dir removes its temporary certificates on exit; --no-tls starts no TLS listener', { timeout: 60_000 }, async () => {
  const cli = startCli(['serve', '--json', '--no-dns', '--no-control', '--listener-faults', 'none']);
  await waitForOutput(cli.output, /\}\n/, 40_000);
  const info = JSON.parse(cli.output().split('\n')[0]!);
  expect(existsSync(info.tls.caFile)).toBe(true);
  cli.child.kill('SIGTERM');
  expect((await cli.done).code).toBe(0);
  expect(existsSync(info.tls.caFile)).toBe(false);

  const off = startCli(['serve', '--json', '--no-dns', '--no-control', '--no-tls']);
  await waitForOutput(off.output, /\}\n/, 40_000);
  const plain = JSON.parse(off.output().split('\n')[0]!);
  expect([plain.tls, plain.upstream.some((l: { name: string }) => l.name === 'tls'), plain.listenerFaults.some((l: { name: string }) => l.name.startsWith('tls-'))]).toEqual([undefined, false, false]);
  off.child.kill('SIGTERM');
  expect((await off.done).code).toBe(0);
});

test('serve --tls-dir on a missing folder says what to do, exit 2', async () => {
  const r = await runCli(['serve', '--no-dns', '--no-control', '--tls-dir', '/nonexistent/bg-tls']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--tls-dir \/nonexistent\/bg-tls: no such folder\. Create it first/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test('faults lists the TLS faults and shows one with its tls block', async () => {
  const one = await runCli(['faults', 'tls-expired']);
  expect(one.code).toBe(0);
  expect(one.stdout).toMatch(/tls-expired\s+\(listener layer\)/);
  expect(one.stdout).toMatch(/^\s+tls:\n\s+cert: expired$/m);
  expect(one.stdout).toMatch(/its own TLS port/);
});

test('a TLS fault written in YAML is in the catalogue; a wrong tls: block names its file:line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-tls-yaml-'));
  try {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'faults:\n  - id: my-legacy-tls\n    layer: listener\n    summary: TLS 1.1 only, expired\n    tls: {minVersion: TLSv1.1, maxVersion: TLSv1.1, ciphers: "DEFAULT:@SECLEVEL=0", cert: expired}\n');
    const r = await runCli(['faults', 'my-legacy-tls', '--faults-file', good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/minVersion: TLSv1\.1/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'id: my-bad-tls\nlayer: listener\ntls:\n  cert: rotten\n');
    const b = await runCli(['faults', '--faults-file', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bad\.yaml:4:\d+: must be one of healthy, expired/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
