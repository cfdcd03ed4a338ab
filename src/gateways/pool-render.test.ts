import { describe, expect, test } from 'vitest';
import { renderInput } from '../../test/helpers/render-input.js';
import { apache } from './apache.js';
import { caddy } from './caddy.js';
import type { GatewayRoute } from './gateway.js';
import { GATEWAYS } from './index.js';
import { haproxy } from './haproxy.js';
import { nginx } from './nginx.js';

const at = (port: number) => ({ kind: 'tcp' as const, host: '127.0.0.1', port });

/** Three servers: weight 2, weight 1, and a backup. */
const POOL: GatewayRoute = {
  id: 'p',
  target: at(9101),
  pool: [
    { target: at(9101), weight: 2, backup: false },
    { target: at(9102), weight: 1, backup: false },
    { target: at(9103), weight: 1, backup: true },
  ],
};
/** Two equal servers, no backup. */
const PAIR: GatewayRoute = { id: 'q', target: at(9201), pool: [{ target: at(9201), weight: 1, backup: false }, { target: at(9202), weight: 3, backup: false }] };

const input = { ...renderInput({ drop: ['c'] }), routes: [...renderInput({ drop: ['c'] }).routes, POOL, PAIR] };
const text = (files: Readonly<Record<string, string>>, main: string) => files[main]!;

describe('pools: nginx', () => {
  const conf = text(nginx.render(input).files, 'nginx.conf');
  test('an upstream group with weight and backup, and nothing that changes nginx\'s retry or passive-health defaults', () => {
    expect(conf).toMatch(/upstream badgateway_pool_4 \{\n\s+server 127\.0\.0\.1:9101 weight=2;\n\s+server 127\.0\.0\.1:9102;\n\s+server 127\.0\.0\.1:9103 backup;\n\s+\}/);
    expect(conf).toMatch(/location \/s\/p\/ \{\n\s+proxy_pass http:\/\/badgateway_pool_4;\n\s+\}/);
    expect(conf).toMatch(/upstream badgateway_pool_5 \{\n\s+server 127\.0\.0\.1:9201;\n\s+server 127\.0\.0\.1:9202 weight=3;/);
    for (const d of ['proxy_next_upstream', 'max_fails', 'fail_timeout']) expect(conf).not.toContain(d);
  });
  test('a keepalive pool keeps idle connections and speaks HTTP/1.1', () => {
    const c = text(nginx.render({ ...input, routes: [{ ...PAIR, keepalive: true }] }).files, 'nginx.conf');
    expect(c).toMatch(/server 127\.0\.0\.1:9202 weight=3;\n\s+keepalive 8;/);
    expect(c).toContain('proxy_http_version 1.1;');
  });
});

describe('pools: HAProxy', () => {
  const conf = text(haproxy.render({ ...input, logSink: { host: '127.0.0.1', port: 5140 } }).files, 'haproxy.cfg');
  test('a backend with a server line per member, weight and backup, no redispatch and no checks', () => {
    expect(conf).toMatch(/backend be_p\n\s+option http-server-close\n\s+server s0 127\.0\.0\.1:9101 weight 2\n\s+server s1 127\.0\.0\.1:9102\n\s+server s2 127\.0\.0\.1:9103 backup\n/);
    expect(conf).toMatch(/server s1 127\.0\.0\.1:9202 weight 3/);
    const directives = conf.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    expect(directives).not.toMatch(/redispatch|\bcheck\b|\bobserve\b|\bretries\b/);
  });
});

describe('pools: Caddy', () => {
  const json = JSON.parse(text(caddy.render(input).files, 'caddy.json')) as { apps: { http: { servers: { badgateway: { routes: Array<{ match: Array<{ path: string[] }>; handle: Array<Record<string, unknown>> }> } } } } };
  const handler = (id: string) => json.apps.http.servers.badgateway.routes.find((r) => r.match[0]!.path[0] === `/s/${id}/*`)!.handle[0]!;
  test('weights as repeated upstreams under round_robin; no try_duration, retries or passive health (Caddy\'s defaults)', () => {
    const h = handler('q');
    expect(h.upstreams).toEqual([{ dial: '127.0.0.1:9201' }, { dial: '127.0.0.1:9202' }, { dial: '127.0.0.1:9202' }, { dial: '127.0.0.1:9202' }]);
    expect(h.load_balancing).toEqual({ selection_policy: { policy: 'round_robin' } });
    expect(h.health_checks).toBeUndefined();
  });
  test('a pool with a backup: the first policy, primaries in order, then the backups', () => {
    const h = handler('p');
    expect(h.upstreams).toEqual([{ dial: '127.0.0.1:9101' }, { dial: '127.0.0.1:9102' }, { dial: '127.0.0.1:9103' }]);
    expect(h.load_balancing).toEqual({ selection_policy: { policy: 'first' } });
  });
});

describe('pools: Apache', () => {
  const conf = text(apache.render({ ...input, routes: input.routes.filter((r) => r.target.kind !== 'dns') }).files, 'apache.conf');
  test('a balancer with loadfactor, hot standby and lbmethod; the balancer modules load', () => {
    expect(conf).toContain('<Proxy "balancer://bg-p">\n  BalancerMember "http://127.0.0.1:9101" connectiontimeout=1 timeout=1500ms loadfactor=2 disablereuse=On\n  BalancerMember "http://127.0.0.1:9102" connectiontimeout=1 timeout=1500ms disablereuse=On\n  BalancerMember "http://127.0.0.1:9103" connectiontimeout=1 timeout=1500ms status=+H disablereuse=On\n  ProxySet lbmethod=byrequests\n</Proxy>\nProxyPass "/s/p/" "balancer://bg-p/s/p/"');
    for (const m of ['mod_slotmem_shm.so', 'mod_proxy_balancer.so', 'mod_lbmethod_byrequests.so']) expect(conf).toContain(m);
    // Apache's own retry (60 s in error state after a failed connect) is kept for members.
    expect(conf).not.toMatch(/BalancerMember[^\n]*retry=/);
  });
  test('without a pool, the balancer modules stay out', () => {
    const c = text(apache.render(renderInput({ drop: ['c'] })).files, 'apache.conf');
    expect(c).not.toContain('mod_proxy_balancer.so');
  });
});

test('the adapters that render pools are the four measured ones', () => {
  expect(GATEWAYS.filter((g) => g.supportsPools).map((g) => g.id).sort()).toEqual(['apache', 'caddy', 'haproxy', 'nginx']);
});
