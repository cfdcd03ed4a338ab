/**
 * The run's PKI and the upstream's healthy TLS listener, checked with a real TLS client: the
 * certificate verifies against the run's CA for its name, every route answers over TLS as over
 * plain HTTP, a route marked tls is served only over TLS, and an exchange fault's RST and FIN
 * reach the client as such through TLS.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRunPki, type RunPki } from '../../src/tls/pki.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { GET, rawRequest } from '../helpers/raw-client.js';
import { tlsExchange } from './wire.js';

let dir: string;
let pki: RunPki;
let up: StartedUpstream;
let tlsPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bg-tls-test-'));
  pki = await createRunPki(dir);
  up = await startUpstream({ tls: { pki }, tlsPort: 0, listenerFaults: [], routes: [{ pathPrefix: '/s/tls-only', fault: 'empty-reply', tls: true }] });
  tlsPort = up.listeners.find((l) => l.name === 'tls')!.port!;
}, 60_000);
afterAll(async () => {
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('createRunPki', () => {
  test('writes the CA and the client certificate under its directory, nothing else', async () => {
    expect((await readdir(dir)).sort()).toEqual(['tls-ca.pem', 'tls-client-key.pem', 'tls-client.pem']);
    expect([pki.caFile, pki.clientCertFile, pki.clientKeyFile].every((f) => f.startsWith(dir + '/'))).toBe(true);
  });

  test('the CA signed the healthy server certificate (for upstream.badgateway.test) and the client certificate', async () => {
    const ca = new X509Certificate(await readFile(pki.caFile));
    expect(ca.ca).toBe(true);
    const server = new X509Certificate(pki.cert('healthy').cert);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost(pki.serverName)).toBe('upstream.badgateway.test');
    // The addresses as iPAddress SANs and, for Apache's mod_ssl, as dNSNames (src/tls/pki.ts).
    expect(server.subjectAltName).toBe('DNS:upstream.badgateway.test, DNS:127.0.0.1, DNS:::1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(new X509Certificate(pki.cert('wrong-name').cert).subjectAltName).toBe('DNS:wrong.badgateway.test');
    const client = new X509Certificate(await readFile(pki.clientCertFile));
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(pki.clientKeyFile)))).toBe(true);
  });
});

describe('the healthy TLS listener', () => {
  test('its certificate verifies against the run CA for the server name, and it serves healthy', async () => {
    const r = await tlsExchange(tlsPort, { rejectUnauthorized: true, ca: pki.caPem, request: 'GET /healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' });
    expect(r.error).toBeUndefined();
    expect(r.authorized).toBe(true);
    expect(r.body).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n');
    expect(up.listeners.find((l) => l.name === 'tls')).toMatchObject({ tls: true, url: `https://127.0.0.1:${tlsPort}` });
  });

  test('without the run CA the certificate is not trusted', async () => {
    const r = await tlsExchange(tlsPort, { rejectUnauthorized: true });
    expect(r.error?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('a route marked tls runs its fault over TLS only; plain HTTP gets the default', async () => {
    const overTls = await tlsExchange(tlsPort, { request: 'GET /s/tls-only/ HTTP/1.1\r\nHost: x\r\n\r\n' });
    expect(overTls.secure).toBe(true);
    expect(overTls.body).toBe('');
    const plain = await rawRequest(GET('/s/tls-only/', 'Connection: close\r\n'), { port: up.http.port });
    expect(plain.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  test("an exchange fault's reset is an RST under TLS, its close a close_notify and a FIN", async () => {
    const reset = await tlsExchange(tlsPort, { maxVersion: 'TLSv1.2', request: 'GET /reset-after-request HTTP/1.1\r\nHost: x\r\n\r\n' });
    expect(reset.serverEnd).toBe('reset');
    expect(reset.records.some((r) => r.type === 21)).toBe(false);
    const cut = await tlsExchange(tlsPort, { maxVersion: 'TLSv1.2', request: 'GET /body-cut-fin-length HTTP/1.1\r\nHost: x\r\n\r\n' });
    expect(cut.body).toBe('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
    expect(cut.serverEnd).toBe('fin');
    // TLS 1.2: the close_notify is an alert record (type 21), encrypted, last before the FIN.
    expect(cut.records.at(-1)?.type).toBe(21);
  });
});
