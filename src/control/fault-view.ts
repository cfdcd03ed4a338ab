/**
 * How the control API shows a fault: its definition as data, and where to
 * find it on this running upstream (a listener port, a DNS name). Pure.
 */
import type { FaultDef } from '../faults/fault.js';
import type { Catalogue } from '../faults/registry.js';
import { explainStep } from '../faults/steps.js';
import type { ListenerInfo } from '../upstream/upstream.js';

export interface DnsInfo {
  readonly host: string;
  readonly port: number;
  readonly zone: string;
}

export interface FaultContext {
  readonly catalogue: Catalogue;
  readonly listeners: readonly ListenerInfo[];
  readonly dns?: DnsInfo;
}

export function faultSummary(def: FaultDef): { id: string; layer: string; summary: string } {
  return { id: def.id, layer: def.layer, summary: def.summary };
}

export function faultDetail(def: FaultDef, ctx: FaultContext): Record<string, unknown> {
  const base = { id: def.id, layer: def.layer, summary: def.summary, explain: def.explain };
  switch (def.layer) {
    case 'exchange': {
      // Compiled with its default params: the lines show what the bare /<id> path does.
      const compiled = ctx.catalogue.compile(def.id);
      return { ...base, ...(def.protocol ? { protocol: def.protocol } : {}), params: def.params, steps: def.steps, explained: compiled.steps.map(explainStep) };
    }
    case 'listener': {
      const l = ctx.listeners.find((x) => x.fault === def.id);
      // Not every listener fault runs (the upstream can start a subset), and a client should be able to tell.
      // A unix-socket one (fcgi-pool-full) has a path instead of a port.
      return { ...base, listener: def.listener, running: l !== undefined, port: l?.port, url: l?.url, ...(def.socket === 'unix' ? { socket: 'unix', path: l?.path } : {}), ...(def.protocol ? { protocol: def.protocol } : {}) };
    }
    case 'dns':
      return {
        ...base,
        label: def.name,
        dns: def.dns,
        name: ctx.dns ? `${def.name}.${ctx.dns.zone}` : undefined,
        server: ctx.dns ? { host: ctx.dns.host, port: ctx.dns.port } : undefined,
      };
    case 'process':
      // Played by a supervised process the harness starts per scenario; the upstream runs none.
      return { ...base, process: def.process, params: def.params, running: false };
  }
}
