/**
 * Every TLS listener fault on the wire, with Node's TLS client through a relay that records the
 * server's records and how its stream ended: the certificate each presents (dates, name, issuer)
 * and what verification says of it, the alert a missing SNI gets, the versions and ciphers each
 * agrees to, mTLS, the stalled and reset handshakes, and whether close_notify precedes the FIN.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_FAULTS } from '../../src/faults/builtin/index.js';
import { createRunPki, type RunPki } from '../../src/tls/pki.js';
import { CUT_BODY_BYTES, CUT_HEAD } from '../../src/tls/listener.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { ALERT, tlsExchange } from './wire.js';

const TLS_FAULTS = BUILTIN_FAULTS.filter((f) => f.layer === 'listener' && f.listener === 'tls').map((f) => f.id);
const HEALTHY = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

let dir: string;
let pki: RunPki;
let up: StartedUpstream;
const port = (fault: string) => up.listeners.find((l) => l.name === fault)!.port!;
const verifying = () => ({ rejectUnauthorized: true, ca: pki.caPem });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bg-tls-faults-'));
  pki = await createRunPki(dir);
  up = await startUpstream({ tls: { pki }, listenerFaults: TLS_FAULTS });
}, 60_000);
afterAll(async () => {
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the catalogue has every TLS fault of the contract, each on a TLS port of its own', () => {
  expect(TLS_FAULTS.sort()).toEqual(
    [
      'tls-healthy', 'tls-expired', 'tls-not-yet-valid', 'tls-wrong-name', 'tls-unknown-ca', 'tls-self-signed', 'tls-sni-required', 'tls-only-1-0', 'tls-only-1-3',
      'tls-no-shared-cipher', 'tls-client-cert-required', 'tls-client-cert-refused', 'tls-handshake-stall', 'tls-handshake-reset', 'tls-cut-no-close-notify', 'tls-cut-close-notify',
    ].sort(),
  );
  for (const f of TLS_FAULTS) expect(up.listeners.find((l) => l.name === f)).toMatchObject({ tls: true, url: `https://127.0.0.1:${port(f)}` });
});

describe('certificates', () => {
  test('tls-healthy verifies against the run CA for upstream.badgateway.test and serves healthy', async () => {
    const r = await tlsExchange(port('tls-healthy'), verifying());
    expect([r.error, r.authorized, r.body]).toEqual([undefined, true, HEALTHY]);
  });

  test("tls-expired: notAfter is in the past; verification fails with CERT_HAS_EXPIRED; without it, the 200 comes through", async () => {
    const seen = await tlsExchange(port('tls-expired'));
    expect(Date.parse(seen.peer!.valid_to)).toBeLessThan(Date.now());
    expect(seen.authorizationError).toBe('CERT_HAS_EXPIRED');
    expect(seen.body).toBe(HEALTHY);
    expect((await tlsExchange(port('tls-expired'), verifying())).error?.code).toBe('CERT_HAS_EXPIRED');
  });

  test('tls-not-yet-valid: notBefore is in the future; CERT_NOT_YET_VALID', async () => {
    const seen = await tlsExchange(port('tls-not-yet-valid'));
    expect(Date.parse(seen.peer!.valid_from)).toBeGreaterThan(Date.now());
    expect((await tlsExchange(port('tls-not-yet-valid'), verifying())).error?.code).toBe('CERT_NOT_YET_VALID');
  });

  test('tls-wrong-name: a valid chain for wrong.badgateway.test; the name check fails', async () => {
    // With the run CA and no rejection: the chain passes, so the only error left is the name's.
    const seen = await tlsExchange(port('tls-wrong-name'), { ca: pki.caPem });
    expect(seen.peer!.subjectaltname).toBe('DNS:wrong.badgateway.test');
    expect(seen.authorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect((await tlsExchange(port('tls-wrong-name'), verifying())).error?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('tls-unknown-ca: issued by another CA than the run one', async () => {
    const seen = await tlsExchange(port('tls-unknown-ca'));
    expect(seen.peer!.issuer.CN).toBe('badgateway unknown CA');
    expect((await tlsExchange(port('tls-unknown-ca'), verifying())).error?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('tls-self-signed: its own issuer', async () => {
    const seen = await tlsExchange(port('tls-self-signed'));
    expect(seen.peer!.issuer.CN).toBe(seen.peer!.subject.CN);
    expect((await tlsExchange(port('tls-self-signed'), verifying())).error?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});

describe('tls-sni-required', () => {
  test('no SNI gets a fatal unrecognized_name alert (112) in plaintext, then a FIN', async () => {
    const r = await tlsExchange(port('tls-sni-required'), { servername: '' });
    expect(r.records).toEqual([{ type: 21, alert: { level: 2, description: ALERT.unrecognizedName } }]);
    expect(r.error?.code).toBe('ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
    expect(r.serverEnd).toBe('fin');
  });

  test('another name gets the same alert; the certificate name gets the 200', async () => {
    expect((await tlsExchange(port('tls-sni-required'), { servername: 'other.badgateway.test' })).records[0]?.alert?.description).toBe(ALERT.unrecognizedName);
    const ok = await tlsExchange(port('tls-sni-required'), verifying());
    expect([ok.authorized, ok.body]).toEqual([true, HEALTHY]);
  });
});

describe('versions and ciphers', () => {
  test('tls-only-1-0: a default client (TLS 1.2 and up) is refused; one that allows TLS 1.0 at security level 0 gets TLSv1', async () => {
    const refused = await tlsExchange(port('tls-only-1-0'));
    expect(refused.secure).toBe(false);
    expect(refused.records.some((r) => r.alert?.description === ALERT.protocolVersion)).toBe(true);
    const old = await tlsExchange(port('tls-only-1-0'), { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    expect([old.protocol, old.body]).toEqual(['TLSv1', HEALTHY]);
  });

  test('tls-only-1-3: negotiates TLSv1.3; a client that stops at TLS 1.2 gets a protocol_version alert (70)', async () => {
    expect((await tlsExchange(port('tls-only-1-3'))).protocol).toBe('TLSv1.3');
    const r = await tlsExchange(port('tls-only-1-3'), { maxVersion: 'TLSv1.2' });
    expect(r.secure).toBe(false);
    expect(r.records).toEqual([{ type: 21, alert: { level: 2, description: ALERT.protocolVersion } }]);
  });

  test('tls-no-shared-cipher: a default client gets a handshake_failure alert (40)', async () => {
    const r = await tlsExchange(port('tls-no-shared-cipher'));
    expect(r.secure).toBe(false);
    expect(r.records).toEqual([{ type: 21, alert: { level: 2, description: ALERT.handshakeFailure } }]);
    // OpenSSL 3.0 (Node 20) names it SSLV3_ALERT_..., OpenSSL 3.5 (Node 24) SSL/TLS_ALERT_...: the alert record above is the wire's word.
    expect(r.error?.code).toMatch(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/);
  });
});

describe('client certificates', () => {
  test('tls-client-cert-required: the run client certificate gets the 200; none gets certificate_required', async () => {
    const cert = await readFile(pki.clientCertFile);
    const key = await readFile(pki.clientKeyFile);
    expect((await tlsExchange(port('tls-client-cert-required'), { ...verifying(), cert, key })).body).toBe(HEALTHY);
    const none = await tlsExchange(port('tls-client-cert-required'));
    expect(none.body).toBe('');
    expect(none.error?.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  test('tls-client-cert-refused: the run client certificate is refused: close_notify and a FIN before any answer', async () => {
    const r = await tlsExchange(port('tls-client-cert-refused'), { maxVersion: 'TLSv1.2', cert: await readFile(pki.clientCertFile), key: await readFile(pki.clientKeyFile) });
    expect(r.secure).toBe(true);
    expect(r.body).toBe('');
    expect(r.records.at(-1)?.type).toBe(21);
    expect(r.serverEnd).toBe('fin');
    // The same certificate from the CA the listener trusts would pass: tls-client-cert-required takes it.
  });
});

describe('handshake', () => {
  test('tls-handshake-stall: the ClientHello is read and never answered', async () => {
    const r = await tlsExchange(port('tls-handshake-stall'), { timeoutMs: 1000 });
    expect([r.secure, r.records, r.serverEnd]).toEqual([false, [], 'open']);
  });

  test('tls-handshake-reset: an RST answers the ClientHello', async () => {
    const r = await tlsExchange(port('tls-handshake-reset'));
    expect([r.secure, r.records, r.serverEnd]).toEqual([false, [], 'reset']);
    expect(r.error?.code).toBe('ECONNRESET');
  });
});

describe('cuts (TLS 1.2, where the close_notify alert shows as an alert record)', () => {
  const cutBody = CUT_HEAD + 'x'.repeat(CUT_BODY_BYTES);

  test('tls-cut-close-notify: 100 of 1000 bytes, then close_notify, then a FIN', async () => {
    const r = await tlsExchange(port('tls-cut-close-notify'), { maxVersion: 'TLSv1.2' });
    expect(r.body).toBe(cutBody);
    expect(r.records.at(-1)?.type).toBe(21);
    expect(r.serverEnd).toBe('fin');
  });

  test('tls-cut-no-close-notify: 100 of 1000 bytes, then a FIN with no close_notify', async () => {
    const r = await tlsExchange(port('tls-cut-no-close-notify'), { maxVersion: 'TLSv1.2' });
    expect(r.body).toBe(cutBody);
    expect(r.records.at(-1)?.type).toBe(23);
    expect(r.records.some((x) => x.type === 21)).toBe(false);
    expect(r.serverEnd).toBe('fin');
  });
});
