/**
 * A custom TLS listener fault from YAML: `layer: listener` with a `tls:` block (the fields of
 * TlsListenerSpec). Every problem names file:line:column; a cipher list or version pair OpenSSL
 * refuses is refused here, at load, not when the upstream starts.
 */
import { createSecureContext } from 'node:tls';
import type { ListenerFaultDef, TlsListenerSpec, TlsVersion } from './fault.js';

type Fail = (path: Array<string | number>, msg: string, atKey?: boolean) => never;

const CERTS = ['healthy', 'expired', 'not-yet-valid', 'wrong-name', 'unknown-ca', 'self-signed'] as const;
const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const KEYS = ['cert', 'minVersion', 'maxVersion', 'ciphers', 'sniRequired', 'clientCert', 'handshake', 'cut'];

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: Array<string | number>, fail: Fail): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(path, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function tlsListenerFromYaml(f: Record<string, unknown>, base: Array<string | number>, fail: Fail): ListenerFaultDef {
  for (const key of Object.keys(f)) {
    if (!['id', 'summary', 'explain', 'layer', 'listener', 'tls'].includes(key)) {
      fail([...base, key], `unknown key "${key}"; a listener fault written in YAML has id, summary, explain, layer: listener, and a tls: block (its handshake)`, true);
    }
  }
  if (f.listener !== undefined && f.listener !== 'tls') fail([...base, 'listener'], 'a listener fault written in YAML is a TLS listener (listener: tls, or leave it out); refuse, accept-queue-full, reset-on-accept and close-on-accept are built in');
  const t = f.tls;
  if (t === undefined) fail([...base, 'layer'], 'a listener fault written in YAML needs a tls: block, e.g. tls: {cert: expired}');
  if (t === null || typeof t !== 'object' || Array.isArray(t)) fail([...base, 'tls'], `tls: is a map of ${KEYS.join(', ')}`);
  const raw = t as Record<string, unknown>;
  const at = (k: string) => [...base, 'tls', k];
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) fail(at(key), `unknown key "${key}" in tls:; it takes ${KEYS.join(', ')}`, true);
  const bool = (k: string) => {
    if (raw[k] !== undefined && typeof raw[k] !== 'boolean') fail(at(k), `${k} must be true or false`);
    return raw[k] as boolean | undefined;
  };
  if (raw.ciphers !== undefined && (typeof raw.ciphers !== 'string' || raw.ciphers.trim() === '')) fail(at('ciphers'), 'ciphers is an OpenSSL cipher list, e.g. "ECDHE-RSA-AES128-SHA" (add :@SECLEVEL=0 for legacy ones)');
  const spec: TlsListenerSpec = {
    ...(raw.cert !== undefined ? { cert: oneOf(raw.cert, CERTS, at('cert'), fail) } : {}),
    ...(raw.minVersion !== undefined ? { minVersion: oneOf(raw.minVersion, VERSIONS, at('minVersion'), fail) } : {}),
    ...(raw.maxVersion !== undefined ? { maxVersion: oneOf(raw.maxVersion, VERSIONS, at('maxVersion'), fail) } : {}),
    ...(raw.ciphers !== undefined ? { ciphers: raw.ciphers as string } : {}),
    ...(bool('sniRequired') !== undefined ? { sniRequired: raw.sniRequired as boolean } : {}),
    ...(raw.clientCert !== undefined ? { clientCert: oneOf(raw.clientCert, ['required', 'refused'] as const, at('clientCert'), fail) } : {}),
    ...(raw.handshake !== undefined ? { handshake: oneOf(raw.handshake, ['stall', 'reset'] as const, at('handshake'), fail) } : {}),
    ...(raw.cut !== undefined ? { cut: oneOf(raw.cut, ['close-notify', 'no-close-notify'] as const, at('cut'), fail) } : {}),
  };
  if (spec.minVersion && spec.maxVersion && VERSIONS.indexOf(spec.minVersion) > VERSIONS.indexOf(spec.maxVersion)) fail(at('minVersion'), `minVersion ${spec.minVersion} is above maxVersion ${spec.maxVersion}`);
  try {
    createSecureContext({ ciphers: spec.ciphers, minVersion: spec.minVersion, maxVersion: spec.maxVersion });
  } catch (err) {
    fail(at(spec.ciphers !== undefined ? 'ciphers' : 'minVersion'), `OpenSSL refuses it: ${(err as Error).message}. TLS 1.0/1.1 and weak ciphers need :@SECLEVEL=0 in ciphers`);
  }
  return {
    id: f.id as string,
    layer: 'listener',
    listener: 'tls',
    tls: spec,
    summary: typeof f.summary === 'string' ? f.summary : 'custom TLS listener fault',
    explain: typeof f.explain === 'string' ? f.explain : '',
  };
}
