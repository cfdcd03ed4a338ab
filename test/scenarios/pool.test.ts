/** `upstreams:`: the loader's checks (file:line and what to do), and how the plan gives each server its address. */
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { gatewayRoutes, planRun, skipReason } from '../../src/harness/plan.js';
import { request } from 'node:http';
import { startChaos } from '../../src/harness/chaos.js';
import { poolKey, poolUpstreams, recoverAfter } from '../../src/harness/upstream-pool.js';
import { builtinScenarioDir, loadSuite, scenarioFromYaml } from '../../src/scenarios/load.js';
import { parseYaml } from '../../src/yaml-source.js';

const catalogue = new Catalogue();
const ids = GATEWAYS.map((g) => g.id);
const load = (text: string) => scenarioFromYaml(parseYaml(text, 'scenarios/p.yaml'), catalogue, ids);
const problem = (text: string): string => {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('BG_INVALID_SCENARIO');
    return (err as Error).message;
  }
  throw new Error('loaded');
};

describe('upstreams: in a scenario file', () => {
  test('ids and objects; weight 1 and no backup unless given; fault/params are the first member\'s', () => {
    const s = load('description: x\nupstreams:\n  - {fault: slow-response, params: {delayMs: 10}, weight: 3}\n  - {fault: healthy, backup: true}\n  - connect-refused\nexpect: {}\n');
    expect(s.pool!.map((m) => [m.fault, m.weight, m.backup, m.faultDef.layer])).toEqual([
      ['slow-response', 3, false, 'exchange'],
      ['healthy', 1, true, 'exchange'],
      ['connect-refused', 1, false, 'listener'],
    ]);
    expect(s.fault).toBe('slow-response');
    expect(s.params).toEqual({ delayMs: 10 });
    expect(s.upstream).toBe('tcp');
  });

  test.each([
    ['fault: and upstreams: together', 'description: x\nfault: healthy\nupstreams: [healthy, healthy]\nexpect: {}\n', /p\.yaml:3:\d+: a scenario has either fault: \(one server\) or upstreams: \(a pool of servers\), not both/],
    ['neither', 'description: x\nexpect: {}\n', /needs fault: <id> \(one server\), upstreams: .* or backend:/],
    ['one server', 'description: x\nupstreams: [healthy]\nexpect: {}\n', /p\.yaml:2:\d+: a pool needs at least 2 servers \(it has 1\); for one server write `fault: <id>`/],
    ['a DNS fault', 'description: x\nupstreams:\n  - healthy\n  - dns-nxdomain\nexpect: {}\n', /p\.yaml:4:\d+: fault dns-nxdomain is a DNS fault: it plays a name, not a server, so it cannot be a pool member/],
    ['a misspelt fault', 'description: x\nupstreams: [healthy, helthy]\nexpect: {}\n', /unknown fault "helthy"\. Closest: healthy/],
    ['the same listener fault twice', 'description: x\nupstreams: [connect-refused, connect-refused]\nexpect: {}\n', /listener fault connect-refused is already a member of this pool, and a listener fault has one port/],
    ['params on a listener fault', 'description: x\nupstreams: [healthy, {fault: connect-refused, params: {a: 1}}]\nexpect: {}\n', /fault connect-refused takes no parameters/],
    ['a bad param', 'description: x\nupstreams: [healthy, {fault: slow-response, params: {nope: 1}}]\nexpect: {}\n', /p\.yaml:2:\d+: .*nope/],
    ['only backups', 'description: x\nupstreams: [{fault: healthy, backup: true}, {fault: healthy, backup: true}]\nexpect: {}\n', /every server of the pool is a backup/],
    ['a weight out of range', 'description: x\nupstreams: [healthy, {fault: healthy, weight: 101}]\nexpect: {}\n', /a weight is 1 to 100/],
    ['upstream: unix', 'description: x\nupstream: unix\nupstreams: [healthy, healthy]\nexpect: {}\n', /p\.yaml:2:\d+: upstream: unix does not apply to a pool/],
    ['recoverAfter on a listener fault', 'description: x\nupstreams: [healthy, {fault: connect-refused, recoverAfter: 2}]\nexpect: {}\n', /recoverAfter: applies to exchange faults/],
    ['an unknown key in a member', 'description: x\nupstreams: [healthy, {fault: healthy, wieght: 2}]\nexpect: {}\n', /unknown key "wieght"/],
  ])('%s is refused with file:line and what to do', (_what, text, msg) => {
    expect(problem(text)).toMatch(msg);
  });
});

describe('pools in the plan', () => {
  const pool = load('description: x\nupstreams: [reset-after-request, connect-refused, {fault: healthy, weight: 2, backup: true}]\nexpect: {}\n');
  const single = load('description: y\nid: single\nfault: empty-reply\nexpect: {}\n');

  test('each exchange member gets an upstream of its own under the scenario path; listener members start their listener; the shared upstream gets no route for the pool', () => {
    const plan = planRun(gatewayById('nginx'), [pool, single], { userConfig: false });
    expect(plan.skipped).toEqual([]);
    expect(plan.upstreamRoutes).toEqual([{ pathPrefix: '/s/single', fault: 'empty-reply', params: {} }]);
    expect(plan.listenerFaults).toEqual(['connect-refused']);
    expect(poolUpstreams(plan.scenarios)).toEqual([
      { key: 'p#0', route: { pathPrefix: '/s/p', fault: 'reset-after-request', params: {} } },
      { key: 'p#2', route: { pathPrefix: '/s/p', fault: 'healthy', params: {} } },
    ]);
    const routes = gatewayRoutes(plan, { host: '127.0.0.1', httpPort: 9000, listenerPorts: new Map([['connect-refused', 9001]]), poolPorts: new Map([[poolKey('p', 0), 9100], [poolKey('p', 2), 9102]]) });
    const tcp = (port: number) => ({ kind: 'tcp', host: '127.0.0.1', port });
    expect(routes[0]).toEqual({
      id: 'p',
      keepalive: false,
      websocket: false,
      target: tcp(9100),
      pool: [
        { target: tcp(9100), weight: 1, backup: false },
        { target: tcp(9001), weight: 1, backup: false },
        { target: tcp(9102), weight: 2, backup: true },
      ],
    });
    expect(routes[1]!.pool).toBeUndefined();
  });

  test('skipped, with the reason, by an adapter that renders no pools and with a user config', () => {
    expect(skipReason(gatewayById('varnish'), pool, { userConfig: false })).toBe('varnish has no upstream pools in badgateway');
    expect(skipReason(gatewayById('nginx'), pool, { userConfig: true })).toMatch(/a pool needs an address for each of its servers; your config has one upstream/);
    for (const id of ['nginx', 'haproxy', 'caddy', 'apache']) expect(skipReason(gatewayById(id), pool, { userConfig: false })).toBeUndefined();
  });

  test('the built-in suite has at least 5 pool scenarios, each with an expectation for nginx, haproxy, caddy and apache', async () => {
    const all = await loadSuite(builtinScenarioDir(), catalogue, ids);
    const pools = all.filter((s) => s.pool);
    expect(pools.length).toBeGreaterThanOrEqual(5);
    for (const s of pools) {
      expect(s.id).toMatch(/^pool-/);
      for (const g of ['nginx', 'haproxy', 'caddy', 'apache']) expect(Object.keys(s.expect).some((k) => k === g || k.startsWith(`${g}@`)), `${s.id} ${g}`).toBe(true);
    }
  });
});

test('a member with recoverAfter: N serves its fault to N requests, then healthy', async () => {
  const s = load('description: x\nupstreams: [{fault: reset-after-request, recoverAfter: 2}, healthy]\nexpect: {}\n');
  const m = poolUpstreams([s])[0]!;
  expect(m.recoverAfter).toBe(2);
  await using chaos = await startChaos({ host: '127.0.0.1', catalogue, routes: [m.route], defaultFault: 'healthy', faultPaths: false, faultHeader: false, listenerFaults: [], dnsPort: false, control: false });
  const off = recoverAfter(chaos.upstream, m);
  const get = () =>
    new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: chaos.upstream.http.port, path: '/s/p/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      req.end();
    });
  const seen = [await get(), await get(), await get(), await get()];
  off();
  expect(seen).toEqual(['ECONNRESET', 'ECONNRESET', '200', '200']);
});
