/**
 * A scenario's TLS keys: `tls: true` (an exchange fault over the upstream's healthy TLS listener)
 * and `tlsVerify` (what the gateway does with the upstream's certificate). Checked where they
 * apply, each refusal at its file:line.
 */
import type { FaultDef } from '../faults/fault.js';
import type { TlsVerify } from './scenario.js';

type Fail = (path: ReadonlyArray<string | number>, msg: string, atKey?: boolean) => never;

interface TlsData {
  readonly tls?: boolean;
  readonly tlsVerify?: TlsVerify;
  readonly upstream?: 'tcp' | 'unix' | 'dns';
}

/** Whether a fault is a TLS listener (`listener: tls`, the tls-* faults): its scenario is a TLS scenario without saying so. */
export function isTlsListenerFault(def: FaultDef): boolean {
  return def.layer === 'listener' && def.listener === 'tls';
}

/** The Scenario fields for the TLS keys: `tls` only when true, `tlsVerify` for every TLS scenario (default `default`). */
export function tlsKeys(d: TlsData, def: FaultDef, faultId: string, pool: boolean, fail: Fail): { tls?: true; tlsVerify?: TlsVerify } {
  const listener = isTlsListenerFault(def);
  if (d.tls === true) {
    if (pool) fail(['tls'], 'tls: true does not apply to a pool (upstreams:) yet; each server of a pool is plain HTTP', true);
    if (listener) fail(['tls'], `fault ${faultId} is a TLS listener: its scenario speaks TLS already; drop tls:`, true);
    if (def.layer !== 'exchange') fail(['tls'], `tls: true serves an exchange fault over the upstream's TLS listener; ${faultId} is a ${def.layer} fault with its own ${def.layer === 'dns' ? 'DNS name' : 'address'}`, true);
    if (def.layer === 'exchange' && def.protocol === 'fastcgi') fail(['tls'], `fault ${faultId} speaks FastCGI, which badgateway serves without TLS; drop tls:`, true);
    if (d.upstream !== undefined && d.upstream !== 'tcp') fail(['upstream'], `upstream: ${d.upstream} with tls: true: the upstream's TLS listener is a TCP port; write upstream: tcp or leave it out`);
  }
  const isTls = d.tls === true || listener;
  if (d.tlsVerify !== undefined && !isTls) fail(['tlsVerify'], 'tlsVerify: applies to TLS scenarios: add tls: true (an exchange fault over TLS), or name a TLS listener fault (tls-*)', true);
  if (!isTls) return {};
  return { ...(d.tls === true ? { tls: true as const } : {}), tlsVerify: d.tlsVerify ?? 'default' };
}
