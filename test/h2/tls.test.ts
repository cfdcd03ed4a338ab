/**
 * HTTP/2 over TLS: the upstream's h2-tls listener offers ALPN h2 with the run's healthy
 * certificate and serves the same h2/gRPC faults as the h2c one, plus the routes that say `tls`.
 * Checked with Node's http2 client verifying the certificate against the run's CA.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRunPki, type RunPki } from '../../src/tls/pki.js';
import { startUpstream, type StartedUpstream } from '../../src/upstream/upstream.js';
import { h2Request } from '../helpers/h2-client.js';
import { connect } from 'node:http2';

const dir = mkdtempSync(join(tmpdir(), 'bg-h2tls-'));
let pki: RunPki;
let up: StartedUpstream;
let port: number;

beforeAll(async () => {
  pki = await createRunPki(dir);
  up = await startUpstream({ h2TlsPort: 0, tls: { pki }, listenerFaults: [], routes: [{ pathPrefix: '/s/over-tls', fault: 'h2-rst-mid-data', protocol: 'h2', tls: true }] });
  port = up.listeners.find((l) => l.name === 'h2-tls')!.port!;
}, 60_000);
afterAll(async () => {
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = () => connect(`https://127.0.0.1:${port}`, { ca: pki.caPem, servername: pki.serverName });

describe('HTTP/2 over TLS', () => {
  test('the handshake selects h2 by ALPN with the healthy certificate', async () => {
    const alpn = await new Promise<string | false>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.caPem, servername: pki.serverName, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(s.alpnProtocol ?? false);
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(alpn).toBe('h2');
  });

  test('h2-healthy and an h2 fault by :path; a route with tls: true is served here', async () => {
    const s = session();
    try {
      const ok = await h2Request('', '/h2-healthy', { session: s });
      expect(ok.error).toBeUndefined();
      expect(ok.headers?.[':status']).toBe(200);
      const rst = await h2Request('', '/h2-rst-before-headers?error=CANCEL', { session: s });
      expect(rst.rstCode).toBe(8);
      const routed = await h2Request('', '/s/over-tls/?bgp=1', { session: s });
      expect(routed.body.length).toBe(100);
      expect(routed.rstCode).toBe(2);
    } finally {
      s.destroy();
    }
  });

  test('grpc-unavailable: the trailers come through TLS as through h2c', async () => {
    const s = session();
    try {
      const r = await h2Request('', '/grpc-unavailable', { session: s, method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: Buffer.from([0, 0, 0, 0, 0]) });
      expect(r.trailers?.['grpc-status']).toBe('14');
    } finally {
      s.destroy();
    }
  });
});
