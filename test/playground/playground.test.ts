/**
 * The playground (docker-compose.yml at the root) as a user runs it: build the
 * upstream image, bring the project up, curl faults through nginx, tear it down.
 * Uses the locally built base images (scripts/build-node-image.sh,
 * scripts/build-gateway-image.sh nginx) unless BADGATEWAY_NODE_IMAGE /
 * BADGATEWAY_NGINX_IMAGE name others. Skipped without Docker, a compose binary or
 * those images, except in CI, where their absence fails the suite.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
const NODE_IMAGE = process.env.BADGATEWAY_NODE_IMAGE ?? 'badgateway/node:bookworm';
const NGINX_IMAGE = process.env.BADGATEWAY_NGINX_IMAGE ?? 'badgateway/nginx:bookworm';
/** Compose's own label on everything it creates for a project. */
const PROJECT_LABEL = 'com.docker.compose.project';

function succeeds(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/** `docker compose` (v2) when the plugin is there, else docker-compose (1.29 from Debian). */
function findCompose(): readonly string[] | undefined {
  if (succeeds('docker', ['compose', 'version'])) return ['docker', 'compose'];
  if (succeeds('docker-compose', ['version'])) return ['docker-compose'];
  return undefined;
}

const compose = findCompose();

function whyNot(): string | undefined {
  if (!succeeds('docker', ['info'])) return 'the Docker engine does not answer (start dockerd)';
  if (!compose) return 'neither `docker compose` nor docker-compose is installed (apt-get install -y docker-compose)';
  if (!succeeds('docker', ['image', 'inspect', NODE_IMAGE])) return `image ${NODE_IMAGE} is missing (scripts/build-node-image.sh)`;
  if (!succeeds('docker', ['image', 'inspect', NGINX_IMAGE])) return `image ${NGINX_IMAGE} is missing (scripts/build-gateway-image.sh nginx)`;
  if (!existsSync(new URL('../../dist/cli/bin.js', import.meta.url))) return 'dist/ is missing (npm run build)';
  return undefined;
}

const why = whyNot();
if (why !== undefined && !process.env.CI) console.warn(`playground test skipped: ${why}`);
const project = `badgateway-playground-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
let port = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function run(args: readonly string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  const [cmd, ...pre] = compose!;
  const env = { ...process.env, BADGATEWAY_NODE_IMAGE: NODE_IMAGE, BADGATEWAY_NGINX_IMAGE: NGINX_IMAGE, BADGATEWAY_PLAYGROUND_PORT: String(port) };
  return new Promise((resolve) => {
    execFile(cmd!, [...pre, '-f', COMPOSE_FILE, '-p', project, ...args], { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

function get(path: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

function leftovers(): string[] {
  const ids = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 15_000 }).split('\n').filter(Boolean);
  return [
    ...ids(['ps', '-a', '-q', '--filter', `label=${PROJECT_LABEL}=${project}`]).map((id) => `container ${id}`),
    ...ids(['network', 'ls', '-q', '--filter', `name=${project}`]).map((id) => `network ${id}`),
    ...ids(['volume', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}=${project}`]).map((id) => `volume ${id}`),
  ];
}

describe.skipIf(why !== undefined && !process.env.CI)(`playground (docker-compose.yml): ${why ?? 'nginx in front of the chaos upstream'}`, () => {
  let logs = '';

  beforeAll(async () => {
    if (why !== undefined) throw new Error(`CI must be able to run the playground: ${why}`);
    port = await freePort();
    const up = await run(['up', '-d', '--build'], 240_000);
    if (up.code !== 0) {
      const l = await run(['logs', '--no-color'], 30_000);
      throw new Error(`compose up failed (exit ${up.code}):\n${up.out.slice(-4000)}\n${l.out.slice(-4000)}`);
    }
    // nginx starts once the upstream is healthy; the first answer can still race its listen().
    const deadline = Date.now() + 20_000;
    for (;;) {
      const status = await get('/healthy', 2000).catch(() => 0);
      if (status === 200) break;
      if (Date.now() > deadline) {
        const l = await run(['logs', '--no-color'], 30_000);
        throw new Error(`/healthy through nginx on 127.0.0.1:${port} never answered 200 (last: ${status}):\n${l.out.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 300_000);

  afterAll(async () => {
    if (why !== undefined) return;
    const down = await run(['down', '-v', '--remove-orphans'], 60_000);
    const left = leftovers();
    if (down.code !== 0 || left.length > 0) throw new Error(`compose down left ${left.join(', ') || 'nothing'} (exit ${down.code}):\n${down.out}`);
  }, 90_000);

  test('each kind of fault shows through nginx with the status the catalogue gives', async () => {
    // Slow faults (never-respond: 5 s, slow-response) are left out; accept-queue-full costs proxy_connect_timeout (2 s).
    const expected: Record<string, number> = {
      '/healthy': 200,
      '/empty-reply': 502,
      '/header-too-big': 502,
      '/connect-refused': 502,
      '/reset-on-accept': 502,
      '/close-on-accept': 502,
      '/accept-queue-full': 504,
      '/dns-ok': 200,
      '/dns-nxdomain': 502,
      '/dns-servfail': 502,
    };
    const paths = Object.keys(expected);
    const got = await Promise.all(paths.map((p) => get(p)));
    expect(Object.fromEntries(paths.map((p, i) => [p, got[i]]))).toEqual(expected);
    logs = (await run(['logs', '--no-color', 'nginx'], 30_000)).out;
  }, 30_000);

  test("nginx's error log says why: each status comes from the fault, not from a broken setup", () => {
    for (const line of [
      /upstream prematurely closed connection while reading response header from upstream.*"GET \/empty-reply /,
      /upstream sent too big header.*"GET \/header-too-big /,
      /\(111: Connection refused\) while connecting to upstream.*"GET \/connect-refused /,
      /\(104: Connection reset by peer\).*"GET \/reset-on-accept /,
      /upstream prematurely closed connection.*"GET \/close-on-accept /,
      /upstream timed out \(110: [^)]*\) while connecting to upstream.*"GET \/accept-queue-full /,
      /nxdomain\.badgateway\.test could not be resolved \(3: Host not found\)/,
      /servfail\.badgateway\.test could not be resolved \(2: Server failure\)/,
    ]) {
      expect(logs).toMatch(line);
    }
  });
});
