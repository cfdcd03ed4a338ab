/**
 * The run's PKI: a CA of its own, the healthy certificate of the TLS upstream, a client
 * certificate for mTLS, and the faulty certificates the tls-* listener faults present. X.509
 * encoding is node-forge's; keys and signatures are Node's own crypto (forge's pure-JS RSA took
 * about 800 ms a signature on a loaded 2-core machine, Node's about 20 ms).
 *
 * Files go under the given directory only (the run dir, which a container gateway has mounted):
 * the CA a gateway verifies against and the client certificate it may present. The certificates
 * the upstream presents stay in memory.
 */
import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** The name the healthy upstream certificate is issued for, and the SNI a gateway should send. */
export const SERVER_NAME = 'upstream.badgateway.test';
/**
 * The addresses the upstream certificates are issued for besides SERVER_NAME (all but the
 * wrong-name one): Apache's mod_proxy checks the peer name against the host of the backend URL,
 * which is an address (https://127.0.0.1:PORT); the only other name it takes is the client's Host
 * (ProxyPreserveHost On, mod_proxy_http.c), which the suite's probes set to the gateway's address;
 * mod_ssl 2.4 compares that name with the dNSName SANs and the CN only (ssl_util_ssl.c, getIDs()),
 * never with iPAddress SANs, so each address is in the certificate as both.
 */
export const UPSTREAM_IPS: readonly string[] = ['127.0.0.1', '::1'];
/** The name the wrong-name certificate is issued for instead. */
export const WRONG_NAME = 'wrong.badgateway.test';

/** Which certificate a TLS listener presents. */
export type TlsCertKind = 'healthy' | 'expired' | 'not-yet-valid' | 'wrong-name' | 'unknown-ca' | 'self-signed';
export const TLS_CERT_KINDS: readonly TlsCertKind[] = ['healthy', 'expired', 'not-yet-valid', 'wrong-name', 'unknown-ca', 'self-signed'];

export interface CertPair {
  /** PEM: the certificate (the leaf only: a server sends no root). */
  readonly cert: string;
  /** PEM, PKCS#8. */
  readonly key: string;
}

export interface RunPki {
  /** PEM file of the run's CA (absolute path, readable by the gateway). */
  readonly caFile: string;
  /** The name the healthy upstream certificate is issued for. */
  readonly serverName: string;
  /** A client certificate signed by the run's CA, for mTLS (PEM file, absolute path), followed by its key. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The run CA's certificate, PEM. */
  readonly caPem: string;
  /**
   * A CA that signed nothing the gateway is given: the unknown-ca certificate's issuer, and the
   * only CA a listener that refuses the run's client certificate accepts client certificates from.
   */
  readonly foreignCaPem: string;
  /** The certificate a listener presents, by kind. */
  cert(kind: TlsCertKind): CertPair;
}

const DAY = 24 * 60 * 60 * 1000;

interface Keys {
  readonly key: KeyObject;
  readonly pem: string;
  readonly pub: forge.pki.PublicKey;
}

/**
 * Key pairs are made once per process and shared by every run's certificates: an RSA key takes
 * about a second on a busy machine, and what a fault is about is the certificate (its dates, name
 * and issuer), never the key. Each run still has a CA certificate of its own.
 */
let keys: Promise<{ ca: Keys; foreign: Keys; leaf: Keys }> | undefined;

async function rsaKeys(): Promise<Keys> {
  // 2048 bits: Debian's OpenSSL (SECLEVEL 2) refuses smaller RSA keys.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const k = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { key: privateKey, pem, pub: forge.pki.setRsaPublicKey(k.n, k.e) };
}

function runKeys() {
  keys ??= (async () => {
    const [ca, foreign, leaf] = await Promise.all([rsaKeys(), rsaKeys(), rsaKeys()]);
    return { ca, foreign, leaf };
  })();
  // A failure is not cached: the next run tries again.
  keys.catch(() => (keys = undefined));
  return keys;
}

let serial = 1;

interface Issue {
  readonly cn: string;
  readonly subjectKeys: Keys;
  /** Undefined: self-signed. */
  readonly issuer?: { readonly cert: forge.pki.Certificate; readonly keys: Keys };
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca?: boolean;
  readonly names?: readonly string[];
  /** IP addresses the certificate is also issued for (iPAddress SANs). */
  readonly ips?: readonly string[];
  readonly usage?: 'server' | 'client';
}

function issue(o: Issue): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = o.subjectKeys.pub;
  // Unique within the process, so no two certificates of one issuer share a serial.
  c.serialNumber = (Date.now() * 1000 + (serial++ % 1000)).toString(16).padStart(16, '0');
  c.validity.notBefore = o.notBefore;
  c.validity.notAfter = o.notAfter;
  const subject = [{ name: 'commonName', value: o.cn }, { name: 'organizationName', value: 'badgateway' }];
  c.setSubject(subject);
  c.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : subject);
  c.setExtensions(
    o.ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
          { name: 'subjectKeyIdentifier' },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: o.usage !== 'client', clientAuth: o.usage === 'client' },
          // Each address twice: as an iPAddress SAN (what OpenSSL's and Go's address checks read)
          // and as a dNSName (mod_ssl's SSLProxyCheckPeerName compares dNSNames and the CN only).
          ...(o.names ? [{ name: 'subjectAltName', altNames: [...[...o.names, ...(o.ips ?? [])].map((value) => ({ type: 2, value })), ...(o.ips ?? []).map((ip) => ({ type: 7, ip }))] }] : []),
        ],
  );
  const signer = o.issuer?.keys ?? o.subjectKeys;
  // forge encodes the TBSCertificate and hands its bytes to the digest; Node signs them.
  let tbs = '';
  const md = { algorithm: 'sha256', update: (bytes: string) => void (tbs += bytes) };
  const key = { sign: () => sign('sha256', Buffer.from(tbs, 'binary'), signer.key).toString('binary') };
  c.sign(key as unknown as forge.pki.rsa.PrivateKey, md as unknown as forge.md.MessageDigest);
  return c;
}

const pem = (c: forge.pki.Certificate) => forge.pki.certificateToPem(c);

/**
 * A CA for this run and every certificate the TLS faults need, with the CA and the client
 * certificate written under `dir` (tls-ca.pem, tls-client.pem, tls-client-key.pem).
 */
export async function createRunPki(dir: string, now = Date.now()): Promise<RunPki> {
  const k = await runKeys();
  const valid = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
  const ca = issue({ cn: 'badgateway run CA', subjectKeys: k.ca, ca: true, ...valid });
  const foreign = issue({ cn: 'badgateway unknown CA', subjectKeys: k.foreign, ca: true, ...valid });
  const byCa = { cert: ca, keys: k.ca };
  const leaf = (names: readonly string[], issuer: Issue['issuer'], when = valid, ips = UPSTREAM_IPS): CertPair => ({
    cert: pem(issue({ cn: names[0]!, subjectKeys: k.leaf, issuer, names, ips, usage: 'server', ...when })),
    key: k.leaf.pem,
  });
  const certs: Record<TlsCertKind, CertPair> = {
    healthy: leaf([SERVER_NAME], byCa),
    expired: leaf([SERVER_NAME], byCa, { notBefore: new Date(now - 60 * DAY), notAfter: new Date(now - DAY) }),
    'not-yet-valid': leaf([SERVER_NAME], byCa, { notBefore: new Date(now + DAY), notAfter: new Date(now + 60 * DAY) }),
    // Neither the name nor the addresses: wrong for a gateway that checks either.
    'wrong-name': leaf([WRONG_NAME], byCa, valid, []),
    'unknown-ca': leaf([SERVER_NAME], { cert: foreign, keys: k.foreign }),
    'self-signed': leaf([SERVER_NAME], undefined),
  };
  const client = issue({ cn: 'badgateway gateway', subjectKeys: k.leaf, issuer: byCa, usage: 'client', ...valid });
  const caFile = join(dir, 'tls-ca.pem');
  const clientCertFile = join(dir, 'tls-client.pem');
  const clientKeyFile = join(dir, 'tls-client-key.pem');
  await writeFile(caFile, pem(ca));
  // The key follows the certificate: Apache's SSLProxyMachineCertificateFile and HAProxy's `crt` take both in one file; nginx and Caddy read the certificate and skip the key.
  await writeFile(clientCertFile, pem(client) + k.leaf.pem);
  await writeFile(clientKeyFile, k.leaf.pem);
  // A gateway in a container runs as another user: it must read the key too (a test key, nothing else).
  await Promise.all([caFile, clientCertFile, clientKeyFile].map((f) => chmod(f, 0o644)));
  return {
    caFile,
    serverName: SERVER_NAME,
    clientCertFile,
    clientKeyFile,
    caPem: pem(ca),
    foreignCaPem: pem(foreign),
    cert: (kind) => certs[kind],
  };
}
