/**
 * The keep-alive race study (scenarios/keepalive-race-get.yaml and -post.yaml, the table in
 * docs/field-guide.md): the scenarios load with a load: block whose sweep validates against
 * their mix, and each gateway's own config test accepts the config that the table says makes the
 * race zero.
 * Nothing here depends on timing; the measured counts are in the field guide.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { parseSweep, sweptMix } from '../../src/load/sweep.js';
import { findBinary } from '../../src/runtimes/process.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';

const catalogue = new Catalogue();
const scenarios = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));

describe('the keep-alive race study', () => {
  test.each([
    ['keepalive-race-get', 'GET'],
    ['keepalive-race-post', 'POST'],
  ] as const)('%s: pooled, a load block at 100/s for 10 s, %s, sweeping the backend idle timeout across the 10 ms between requests', (id, method) => {
    const s = scenarios.find((x) => x.id === id);
    expect(s, `${id} is a built-in scenario`).toBeDefined();
    expect(s!.keepalive).toBe(true);
    const load = s!.load!;
    expect(load).toMatchObject({ rate: 100, durationMs: 10_000, connections: 16, method, sweep: 'idleMs=5,10,20' });
    // Without a mix the scenario's own fault is the whole mix: every connection closes after idleMs.
    expect(load.mix).toEqual([{ fault: 'keepalive-idle-close', weight: 1, params: { idleMs: 10 } }]);
    const sweep = parseSweep(load.sweep!, load.mix, catalogue);
    expect(sweep.values).toEqual([5, 10, 20]);
    expect(sweptMix(load.mix, sweep, 20)).toEqual([{ fault: 'keepalive-idle-close', weight: 1, params: { idleMs: 20 } }]);
  });

  test.each([
    ['nginx', 'nginx-keepalive-timeout.conf', 'nginx.conf', /upstream app \{\n\s+server 127\.0\.0\.1:9000;\n\s+keepalive 8;\n\s+keepalive_timeout 4ms;/],
    ['nginx', 'nginx-non-idempotent.conf', 'nginx.conf', /proxy_next_upstream error timeout non_idempotent;/],
    ['haproxy', 'haproxy-retry-on.cfg', 'haproxy.cfg', /http-reuse always\n\s+retry-on conn-failure empty-response\n\s+server s 127\.0\.0\.1:9000/],
    ['caddy', 'Caddyfile-keepalive', 'Caddyfile', /reverse_proxy 127\.0\.0\.1:9000 \{[^}]*keepalive 4ms/],
    ['apache', 'apache-disablereuse.conf', 'apache.conf', /ProxyPass "\/s\/load\/" "http:\/\/127\.0\.0\.1:9000\/s\/load\/" .*disablereuse=On/],
  ] as const)('%s takes the fixed config %s: placeholders filled, and its own config test passes', async (gateway, file, main, directive) => {
    const path = `test/fixtures/keepalive-race/${file}`;
    const text = await readFile(path, 'utf8');
    const g = gatewayById(gateway);
    const prefix = mkdtempSync(join(tmpdir(), `badgateway-test-race-${gateway}-`));
    try {
      const rendered = g.fromUserConfig(text, path, { listen: { host: '127.0.0.1', port: 8000 }, prefix, upstream: { host: '127.0.0.1', port: 9000 }, healthy: { host: '127.0.0.1', port: 9001 }, logSink: { host: '127.0.0.1', port: 5140 } });
      expect(rendered.main).toBe(main);
      expect(rendered.files[main]).toMatch(directive);
      expect(rendered.files[main]).not.toContain('{{');
      // The gateway itself reads it (nginx -t, haproxy -c, caddy validate, apache2 -t): CI installs every one.
      const bin = await findBinary(g.binary);
      if (bin === undefined && !process.env.CI) return;
      expect(bin, `${g.binary} on PATH`).toBeDefined();
      for (const d of ['logs', 'tmp', 'data']) mkdirSync(join(prefix, d), { recursive: true });
      for (const [f, body] of Object.entries(rendered.files)) {
        mkdirSync(dirname(join(prefix, f)), { recursive: true });
        writeFileSync(join(prefix, f), body);
      }
      const r = spawnSync(bin!, g.testArgs(prefix, join(prefix, main)), { encoding: 'utf8', env: { ...process.env, ...g.env?.(prefix) }, timeout: 30_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
