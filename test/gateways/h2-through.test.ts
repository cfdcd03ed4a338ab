/**
 * HTTP/2 and gRPC routes through the real gateways on this host: each adapter's rendering is
 * checked for its directives, passes the gateway's own config test, and carries a gRPC call (h2c
 * on the gateway's second listener) and a plain request to an h2c upstream (a Node http2 server
 * started here) end to end. A gateway that is not installed is skipped, with its install hint.
 */
import { createServer, type Http2Server } from 'node:http2';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apache } from '../../src/gateways/apache.js';
import { caddy } from '../../src/gateways/caddy.js';
import type { GatewayAdapter, GatewayRoute, RenderInput } from '../../src/gateways/gateway.js';
import { haproxy } from '../../src/gateways/haproxy.js';
import { nginx } from '../../src/gateways/nginx.js';
import { READY_PATH } from '../../src/gateways/paths.js';
import { startLogSink, type StartedLogSink } from '../../src/harness/log-sink.js';
import { grpcFrame, h2Probe } from '../../src/probe/h2-probe.js';
import { probe } from '../../src/probe/http-probe.js';
import { makePrefix, removePrefix, writeConfig } from '../../src/runtimes/files.js';
import { findBinary } from '../../src/runtimes/process.js';
import { resolveRuntime } from '../../src/runtimes/index.js';
import type { RunningGateway } from '../../src/runtimes/runtime.js';
import { freePort } from '../../src/upstream/listen.js';

const GATEWAYS: readonly GatewayAdapter[] = [nginx, haproxy, caddy, apache];

function input(prefix: string, port: number, listen: number, h2: number, logSink?: { host: string; port: number }): RenderInput {
  const at = { kind: 'tcp' as const, host: '127.0.0.1', port };
  const routes: GatewayRoute[] = [
    { id: 'plain', target: at },
    { id: 'grpc', target: at, protocol: 'grpc' },
    { id: 'h2', target: at, protocol: 'h2' },
  ];
  return {
    listen: { host: '127.0.0.1', port: listen },
    h2Listen: { host: '127.0.0.1', port: h2 },
    prefix,
    routes,
    timeouts: { connectMs: 1000, readMs: 1500, sendMs: 1000, resolverMs: 1000 },
    ...(logSink ? { logSink } : {}),
  };
}

describe('h2 and grpc routes render what each gateway needs', () => {
  const conf = (g: GatewayAdapter) => {
    const r = g.render(input('/tmp/p', 9000, 8080, 8443, { host: '127.0.0.1', port: 5514 }));
    return r.files[r.main]!;
  };

  test('nginx: grpc_pass for gRPC, h2 routes are not its to render, an http2 listen for h2c clients', () => {
    const c = conf(nginx);
    expect(c).toMatch(/location \/s\/grpc\/ \{\n\s+grpc_pass grpc:\/\/127\.0\.0\.1:9000;/);
    expect(c).toContain('listen 127.0.0.1:8443 http2;');
    expect(c).toContain('listen 127.0.0.1:8080;\n');
    expect(c).toContain('grpc_read_timeout 1500ms;');
    expect(nginx.supportsGrpc).toBe(true);
    expect(nginx.supportsH2Upstream).not.toBe(true);
    expect(nginx.noH2UpstreamWhy).toMatch(/grpc_pass/);
  });

  test('HAProxy: proto h2 on the server of h2 and gRPC routes, a proto h2 bind for h2c clients', () => {
    const c = conf(haproxy);
    expect(c).toMatch(/backend be_grpc\n(?:.*\n)*?\s+server s 127\.0\.0\.1:9000 proto h2/);
    expect(c).toMatch(/backend be_h2\n(?:.*\n)*?\s+server s 127\.0\.0\.1:9000 proto h2/);
    expect(c).toMatch(/backend be_plain\n(?:.*\n)*?\s+server s 127\.0\.0\.1:9000\n/);
    expect(c).toContain('bind 127.0.0.1:8443 proto h2');
  });

  test('Caddy: versions h2c 2 on the h2 and gRPC transports, a second server with protocols h1 h2c', () => {
    const j = JSON.parse(conf(caddy)) as { apps: { http: { servers: Record<string, { listen: string[]; protocols?: string[]; routes: Array<{ match?: Array<{ path: string[] }>; handle: Array<{ transport?: { versions?: string[] } }> }> }> } } };
    const servers = j.apps.http.servers;
    const versions = (id: string) => servers.badgateway!.routes.find((r) => r.match?.[0]?.path[0] === `/s/${id}/*`)!.handle[0]!.transport!.versions;
    expect(versions('grpc')).toEqual(['h2c', '2']);
    expect(versions('h2')).toEqual(['h2c', '2']);
    expect(versions('plain')).toBeUndefined();
    expect(servers.badgateway_h2c).toMatchObject({ listen: ['127.0.0.1:8443'], protocols: ['h1', 'h2c'] });
    expect(servers.badgateway_h2c!.routes).toEqual(servers.badgateway!.routes);
  });

  test('Apache: h2c:// through mod_proxy_http2, a virtual host speaking h2c for h2c clients', () => {
    const c = conf(apache);
    expect(c).toContain('ProxyPass "/s/grpc/" "h2c://127.0.0.1:9000/s/grpc/"');
    expect(c).toContain('ProxyPass "/s/h2/" "h2c://127.0.0.1:9000/s/h2/"');
    expect(c).toContain('ProxyPass "/s/plain/" "http://127.0.0.1:9000/s/plain/"');
    expect(c).toContain('LoadModule proxy_http2_module /usr/lib/apache2/modules/mod_proxy_http2.so');
    expect(c).toContain('LoadModule http2_module /usr/lib/apache2/modules/mod_http2.so');
    expect(c).toMatch(/Listen 127\.0\.0\.1:8443\n<VirtualHost 127\.0\.0\.1:8443>\n\s+Protocols h2c http\/1\.1\n\s+H2Direct on/);
  });

  test('without h2 routes or an h2 listener nothing HTTP/2 is rendered', () => {
    for (const g of GATEWAYS) {
      const i = input('/tmp/p', 9000, 8080, 8443, { host: '127.0.0.1', port: 5514 });
      const r = g.render({ ...i, h2Listen: undefined, routes: i.routes.slice(0, 1) });
      expect(r.files[r.main]!).not.toMatch(/grpc_pass|http2|h2c|proto h2|"versions"/);
    }
  });
});

// --- through the real gateways -------------------------------------------------------------

let upstream: Http2Server;
let upstreamPort: number;
const upstreamSaw: Array<{ path: string; contentType?: string }> = [];

beforeAll(async () => {
  upstream = createServer();
  upstream.on('stream', (st, h) => {
    upstreamSaw.push({ path: String(h[':path']), contentType: h['content-type'] });
    st.on('error', () => {});
    st.on('data', () => {});
    st.on('end', () => {
      if (String(h['content-type']).startsWith('application/grpc')) {
        st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '14', 'grpc-message': 'backend%20down' }));
        st.end(grpcFrame(Buffer.from('partial')));
      } else {
        st.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '9' });
        st.end('hello h2\n');
      }
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

function configTest(bin: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 20_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

for (const g of GATEWAYS) {
  describe(`${g.id} on this host: h2 and gRPC end to end`, async () => {
    const bin = await findBinary(g.binary);
    let gateway: RunningGateway | undefined;
    let sink: StartedLogSink | undefined;
    let listen = 0;
    let h2 = 0;
    let prefix = '';

    beforeAll(async () => {
      if (!bin) return;
      prefix = await makePrefix(g.id);
      if (g.syslogFile) sink = await startLogSink({ host: '127.0.0.1', file: join(prefix, g.syslogFile) });
      listen = await freePort('127.0.0.1');
      h2 = await freePort('127.0.0.1');
    }, 30_000);

    afterAll(async () => {
      await gateway?.close();
      await sink?.close();
    }, 30_000);

    // CI installs every gateway (.ci/run): there a missing binary fails rather than skips.
    test.skipIf(!bin && !process.env.CI)(`the rendered config passes ${g.binary}'s own config test`, async () => {
      // A prefix of its own: the runtime writes the running gateway's.
      const dir = await makePrefix(g.id);
      const config = g.render(input(dir, upstreamPort, listen, h2, { host: '127.0.0.1', port: 5514 }));
      const main = await writeConfig(dir, config);
      const r = await configTest(bin!, g.testArgs(dir, main), g.env?.(dir));
      await removePrefix(dir);
      expect(r.out).not.toMatch(/\[emerg\]|ALERT|error/i);
      expect(r.code).toBe(0);
    }, 30_000);

    // CI installs every gateway (.ci/run): there a missing binary fails rather than skips.
    test.skipIf(!bin && !process.env.CI)('a gRPC call on the h2c listener gets the upstream\'s grpc-status and message; a plain request reaches the h2c upstream', async () => {
      const { runtime } = await resolveRuntime('process', g);
      const config = g.render(input(prefix, upstreamPort, listen, h2, sink ? { host: sink.host, port: sink.port } : undefined));
      gateway = await runtime.start({ adapter: g, config, prefix, listen: { host: '127.0.0.1', port: listen }, readyPath: READY_PATH });
      const call = await h2Probe({ host: '127.0.0.1', port: h2, method: 'POST', target: '/s/grpc/svc.Echo/Say?bgp=1', grpc: true, timeoutMs: 5000 });
      expect(call).toMatchObject({ kind: 'response', status: 200, body: 'complete', grpc: { status: 14, message: 'backend down' } });
      expect(upstreamSaw.some((s) => s.path.startsWith('/s/grpc/svc.Echo/Say') && s.contentType === 'application/grpc')).toBe(true);
      if (g.supportsH2Upstream) {
        const plain = await probe({ host: '127.0.0.1', port: listen, method: 'GET', target: '/s/h2/x?bgp=2', timeoutMs: 5000 });
        expect(plain).toMatchObject({ kind: 'response', status: 200, body: 'complete' });
        expect(plain.bodyPreview).toContain('hello h2');
      }
    }, 60_000);
  });
}
