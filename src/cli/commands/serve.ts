import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import type { ListenerFaultDef } from '../../faults/fault.js';
import { DEFAULT_HEAD_TIMEOUT_MS, listenerFaultIds, type GuardEvent } from '../../upstream/upstream.js';
import { defaultMaxConnections, descriptorLimit } from '../../upstream/listen.js';
import { controlToken, TOKEN_ENV } from '../control-token.js';
import { startChaos, type StartedChaos } from '../../harness/chaos.js';
import type { MixSpec, RouteSpec } from '../../upstream/upstream.js';
import { paint, table, useColor } from '../../report/terminal.js';
import { parseWholeNumber, PORT } from '../flags.js';
import { loadCatalogue } from './faults.js';
import { loadSuite } from '../../api/suite.js';
import { isLoopback } from '../../control/auth.js';
import type { ServedSuite } from '../../control/served-suite.js';
import { DEFAULT_HEALTH_PATH, servedSuite, suiteRoutes } from '../../harness/external.js';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRunPki, type RunPki } from '../../tls/pki.js';

/** Any safe integer: the PRNG folds it to 32 bits, and negative seeds are as replayable as positive ones. */
const SEED = { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, what: 'a whole number, e.g. --seed 42' };

const HEAD_TIMEOUT = { min: 1, max: 2_147_483_647, what: 'milliseconds from 1 to 2147483647, e.g. --head-timeout-ms 30000' };
const HEAD_BYTES = { min: 64, max: 1024 * 1024, what: 'bytes from 64 to 1048576, e.g. --max-head-bytes 65536' };
const EVENT_BUFFER = { min: 1024, max: 1024 * 1024 * 1024, what: 'bytes from 1024 to 1073741824, e.g. --event-buffer-bytes 1048576' };
const DNS_IDLE = { min: 1, max: 2_147_483_647, what: 'milliseconds from 1 to 2147483647, e.g. --dns-tcp-idle-ms 10000' };
const DNS_TCP = { min: 1, max: 65_536, what: 'a number from 1 to 65536, e.g. --dns-max-tcp-connections 256' };
/** A line per guard kind at most this often on stderr; `--events` shows every one. */
const GUARD_WARN_EVERY_MS = 10_000;

/** "fault?k=v&k2=v2" → id and params (numbers stay numbers). */
export function parseFaultRef(ref: string, flag: string): { fault: string; params?: Record<string, string | number> } {
  const q = ref.indexOf('?');
  const fault = (q === -1 ? ref : ref.slice(0, q)).trim();
  if (fault === '') throw new InputError('BG_BAD_FLAG', `${flag}: missing fault id in "${ref}"`);
  if (q === -1) return { fault };
  const params: Record<string, string | number> = {};
  for (const [k, v] of new URLSearchParams(ref.slice(q + 1))) params[k] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  return { fault, params };
}

export function parseRoute(spec: string): RouteSpec {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new InputError('BG_BAD_FLAG', `--route "${spec}": expected PATH_PREFIX=FAULT, e.g. --route /api=empty-reply`);
  const prefix = spec.slice(0, eq);
  if (!prefix.startsWith('/')) throw new InputError('BG_BAD_FLAG', `--route "${spec}": the path prefix must start with /`);
  return { pathPrefix: prefix, ...parseFaultRef(spec.slice(eq + 1), '--route') };
}

export function parseHeaderRoute(spec: string): RouteSpec {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0) throw new InputError('BG_BAD_FLAG', `--header-route "${spec}": expected NAME[:VALUE]=FAULT, e.g. --header-route x-chaos:on=reset-after-request`);
  const left = spec.slice(0, eq);
  const colon = left.indexOf(':');
  const header = colon === -1 ? { name: left.trim() } : { name: left.slice(0, colon).trim(), value: left.slice(colon + 1).trim() };
  return { header, ...parseFaultRef(spec.slice(eq + 1), '--header-route') };
}

export function parseMix(spec: string): MixSpec[] {
  return spec.split(',').map((part) => {
    const m = /^\s*([^:]+?)\s*:\s*([0-9.]+)\s*$/.exec(part);
    if (!m) throw new InputError('BG_BAD_FLAG', `--mix "${spec}": expected FAULT:WEIGHT,FAULT:WEIGHT, e.g. --mix healthy:90,empty-reply:10`);
    return { ...parseFaultRef(m[1]!, '--mix'), weight: Number(m[2]) };
  });
}

export function serveCommand(y: Argv) {
  return y.command(
    'serve',
    'Start the chaos upstream: HTTP listener (every fault at /<fault-id>), listener faults, DNS responder and control API',
    (a) =>
      a
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address for every listener' })
        .option('port', { default: 0, describe: 'HTTP port of the upstream (0 = any free port)' })
        .option('unix', { type: 'string', describe: 'also listen on this unix socket path' })
        .option('fastcgi-fault', { type: 'string', describe: 'default fault for FastCGI requests no route matches (a FastCGI fault, fcgi-*; default fcgi-healthy)' })
        .option('fastcgi-port', { describe: 'serve FastCGI (as PHP-FPM does) on this TCP port, 0 = any free port; every FastCGI fault at REQUEST_URI /<fault-id>' })
        .option('fastcgi-unix', { type: 'string', describe: 'serve FastCGI on this unix socket path' })
        .option('h2-port', { describe: 'serve HTTP/2 over cleartext (h2c, prior knowledge) on this TCP port, 0 = any free port; every HTTP/2 and gRPC fault (h2-*, grpc-*) at :path /<fault-id>' })
        .option('h2-fault', { type: 'string', describe: 'default fault for HTTP/2 requests no route matches (an HTTP/2 fault, h2-* or grpc-*; default h2-healthy)' })
        .option('tls', { type: 'boolean', default: true, describe: 'make a CA and certificates at start, serve every route over TLS too (--tls-port) and start the TLS listener faults (--no-tls to turn all of it off)' })
        .option('tls-port', { default: 0, describe: 'port of the TLS listener: the same routes as the HTTP one, certificate for upstream.badgateway.test (0 = any free port)' })
        .option('tls-dir', { type: 'string', describe: 'write the CA (tls-ca.pem) and the client certificate for mTLS (tls-client.pem, tls-client-key.pem) here (default: a temporary folder, removed on exit)' })
        .option('fault', { type: 'string', default: 'healthy', describe: 'default fault for requests no route matches' })
        .option('route', { type: 'string', array: true, describe: 'PATH_PREFIX=FAULT[?param=value] (repeatable, first match wins)' })
        .option('header-route', { type: 'string', array: true, describe: 'HEADER[:VALUE]=FAULT[?param=value] (repeatable)' })
        .option('mix', { type: 'string', describe: 'weighted random faults for unrouted requests: FAULT:WEIGHT,...' })
        .option('seed', { describe: 'seed for --mix (a whole number); the same seed replays the same sequence of faults' })
        .option('faults-file', { type: 'string', array: true, describe: 'load custom faults (YAML steps) from this file (repeatable)' })
        .option('fault-paths', { type: 'boolean', default: true, describe: 'route /<fault-id> to each fault (--no-fault-paths to turn off)' })
        .option('fault-header', { type: 'string', default: 'x-badgateway-fault', describe: 'request header that picks the fault by id' })
        .option('listener-faults', { type: 'string', describe: 'comma list of listener faults to start, or "none" (default: all)' })
        .option('listener-fault-port', { type: 'string', array: true, describe: 'pin a listener fault to a port: ID=PORT (repeatable), e.g. connect-refused=9001' })
        .option('listener-fault-path', { type: 'string', array: true, describe: 'start a unix-socket listener fault on a path: ID=PATH (repeatable), e.g. fcgi-pool-full=/tmp/full.sock; without one it is not started' })
        .option('dns-address', { type: 'string', array: true, describe: 'address(es) healthy DNS names resolve to (default: --host, or loopback for 0.0.0.0); IPv6 ones go in AAAA' })
        .option('dns', { type: 'boolean', default: true, describe: 'start the DNS responder (--no-dns to turn off)' })
        .option('dns-port', { default: 0, describe: 'UDP and TCP port of the DNS responder' })
        .option('dns-zone', { type: 'string', default: 'badgateway.test', describe: 'the zone the DNS responder answers for' })
        .option('control', { type: 'boolean', default: true, describe: 'start the control API (--no-control to turn off)' })
        .option('control-host', { type: 'string', describe: `address of the control API (default 127.0.0.1; with --suite, --host); any non-loopback address needs a token (${TOKEN_ENV} or --control-token-file)` })
        .option('control-port', { describe: 'port of the control API (default 0, any free port; with --suite and a --port, that port + 1)' })
        .option('suite', { type: 'string', describe: 'serve this suite (a folder of scenario files, a file or a list) as a run would: /s/<scenario>/ plays its fault, for a gateway you deploy in front (run --runtime external --upstream-control)' })
        .option('health-path', { type: 'string', default: DEFAULT_HEALTH_PATH, describe: 'with --suite: the path answered 200 for load-balancer and readiness health checks' })
        .option('control-token-file', { type: 'string', describe: `read the control API's bearer token from the first line of this file (keep it chmod 600); or set env ${TOKEN_ENV}` })
        .option('control-token', { type: 'string', describe: `the token on the command line: every local user sees it in ps; prefer env ${TOKEN_ENV} or --control-token-file` })
        .option('head-timeout-ms', { default: DEFAULT_HEAD_TIMEOUT_MS, describe: 'longest a peer may take to send a request head: then 408 and close (never during a fault\'s script)' })
        .option('max-head-bytes', { default: 65536, describe: 'largest request head: a larger one gets 431 and close' })
        .option('max-connections', { describe: 'most connections the HTTP and unix listeners hold; more are closed at accept (default: the descriptor limit, ulimit -n, minus a reserve for the control API and DNS)' })
        .option('event-buffer-bytes', { default: 1024 * 1024, describe: 'bytes of events sent to one event-stream client and not yet confirmed read (by a pong) before it is closed with 1008' })
        .option('dns-tcp-idle-ms', { default: 10_000, describe: 'a DNS-over-TCP connection with no complete query for this long is closed' })
        .option('dns-max-tcp-connections', { default: 256, describe: 'most DNS-over-TCP connections at once; more are closed at accept' })
        .option('events', { type: 'boolean', default: false, describe: 'log every upstream event to stderr as JSON lines' })
        .option('json', { type: 'boolean', default: false, describe: 'print the listeners as one JSON object' })
        .example('$0 serve --port 9000', 'every fault at http://127.0.0.1:9000/<fault-id>')
        .example('$0 serve --fault empty-reply', 'every request gets an empty reply')
        .example('$0 serve --route /api=slow-response?delayMs=5000', 'a route with a parameter')
        .example('$0 serve --mix healthy:90,reset-after-request:10 --seed 42', 'a replayable 10% reset rate')
        .example('$0 serve --suite ./scenarios --host 0.0.0.0 --port 8080', 'the suite at /s/<scenario>/, health check /healthz, control API on 8081 (token from BADGATEWAY_CONTROL_TOKEN)')
        .example('$0 serve --fastcgi-port 9001 --fastcgi-unix /tmp/bg-fpm.sock', 'FastCGI faults for fastcgi_pass, as PHP-FPM would listen')
        .example('$0 serve --h2-port 9002', 'HTTP/2 and gRPC faults over h2c, e.g. grpc_pass grpc://127.0.0.1:9002 or curl --http2-prior-knowledge http://127.0.0.1:9002/h2-rst-mid-data')
        .example('$0 serve --tls-port 9443 --tls-dir ./bg-tls --listener-fault-port tls-expired=9444', 'TLS: verify against ./bg-tls/tls-ca.pem with SNI upstream.badgateway.test'),
    async (argv) => {
      const port = parseWholeNumber('--port', argv.port, PORT);
      const fastcgiPort = argv['fastcgi-port'] === undefined ? undefined : parseWholeNumber('--fastcgi-port', argv['fastcgi-port'], PORT);
      const h2Port = argv['h2-port'] === undefined ? undefined : parseWholeNumber('--h2-port', argv['h2-port'], PORT);
      const tlsPort = parseWholeNumber('--tls-port', argv['tls-port'], PORT);
      const dnsPort = parseWholeNumber('--dns-port', argv['dns-port'], PORT);
      const suiteDir = argv.suite;
      if (suiteDir !== undefined && (argv['health-path'] === '' || !argv['health-path'].startsWith('/'))) throw new InputError('BG_BAD_FLAG', `--health-path ${argv['health-path']}: give a path starting with /, e.g. --health-path /healthz.`);
      // A deployed suite's control API is what `run --upstream-control` talks to: it follows the upstream's address, on the next port.
      const controlHost = argv['control-host'] ?? (suiteDir !== undefined ? argv.host : '127.0.0.1');
      const controlPort = argv['control-port'] !== undefined ? parseWholeNumber('--control-port', argv['control-port'], PORT) : suiteDir !== undefined && port !== 0 && port < 65535 ? port + 1 : 0;
      const seed = argv.seed === undefined ? undefined : parseWholeNumber('--seed', argv.seed, SEED);
      const headTimeoutMs = parseWholeNumber('--head-timeout-ms', argv['head-timeout-ms'], HEAD_TIMEOUT);
      const maxHeadBytes = parseWholeNumber('--max-head-bytes', argv['max-head-bytes'], HEAD_BYTES);
      const eventBufferBytes = parseWholeNumber('--event-buffer-bytes', argv['event-buffer-bytes'], EVENT_BUFFER);
      const dnsTcpIdleTimeoutMs = parseWholeNumber('--dns-tcp-idle-ms', argv['dns-tcp-idle-ms'], DNS_IDLE);
      const dnsMaxTcpConnections = parseWholeNumber('--dns-max-tcp-connections', argv['dns-max-tcp-connections'], DNS_TCP);
      const limit = descriptorLimit();
      const maxConnections =
        argv['max-connections'] === undefined
          ? undefined
          : parseWholeNumber('--max-connections', argv['max-connections'], {
              min: 1,
              max: limit,
              what: `a number from 1 to ${limit}, this process's descriptor limit (ulimit -n; the default, ${defaultMaxConnections(limit)}, keeps a reserve for the control API and DNS)`,
            });
      const warn = (line: string) => process.stderr.write(`${line}\n`);
      const token = controlToken({ flag: argv['control-token'], file: argv['control-token-file'], env: process.env[TOKEN_ENV] }, warn);
      const catalogue = await loadCatalogue(argv['faults-file']);
      let suite: ServedSuite | undefined;
      let suiteRouteSpecs: RouteSpec[] = [];
      if (suiteDir !== undefined) {
        const loaded = await loadSuite({ suite: suiteDir, faultsFiles: argv['faults-file'] });
        suite = servedSuite(loaded.scenarios, argv['health-path']);
        suiteRouteSpecs = suiteRoutes(loaded.scenarios, argv['health-path']);
        if (argv.control && token === undefined && !isLoopback(controlHost)) {
          throw new InputError(
            'BG_CONTROL_TOKEN_REQUIRED',
            `serve --suite on ${controlHost} starts its control API there too (port ${controlPort || 'any'}), so that badgateway run --upstream-control can check which suite it serves; beyond loopback it needs a token: set ${TOKEN_ENV} or pass --control-token-file FILE. Or keep it on loopback with --control-host 127.0.0.1, or turn it off with --no-control.`,
          );
        }
      }
      const routes = [...suiteRouteSpecs, ...(argv.route ?? []).map(parseRoute), ...(argv['header-route'] ?? []).map(parseHeaderRoute)];
      const def = parseFaultRef(argv.fault, '--fault');
      const fcgiDef = argv['fastcgi-fault'] === undefined ? undefined : parseFaultRef(argv['fastcgi-fault'], '--fastcgi-fault');
      const h2Def = argv['h2-fault'] === undefined ? undefined : parseFaultRef(argv['h2-fault'], '--h2-fault');
      if (h2Def !== undefined && h2Port === undefined) throw new InputError('BG_BAD_FLAG', `--h2-fault ${argv['h2-fault']} needs an HTTP/2 listener to serve it on: add --h2-port PORT (0 = any free port).`);
      const listenerIds = listenerFaultIds(catalogue);
      let listenerFaults: string[] | undefined;
      if (argv['listener-faults'] !== undefined) {
        listenerFaults = argv['listener-faults'] === 'none' ? [] : argv['listener-faults'].split(',').map((raw) => {
          const id = raw.trim();
          catalogue.get(id); // unknown id: throws with the closest ids
          if (!listenerIds.includes(id)) throw new InputError('BG_BAD_FLAG', `--listener-faults: "${id}" is not a listener fault; they are: ${listenerIds.join(', ')}`);
          return id;
        });
      }
      const listenerFaultPorts: Record<string, number> = {};
      for (const spec of argv['listener-fault-port'] ?? []) {
        const bad = (why: string) => new InputError('BG_BAD_FLAG', `--listener-fault-port ${spec}: ${why}`);
        const eq = spec.indexOf('=');
        if (eq === -1) throw bad(`expected ID=PORT, e.g. connect-refused=9001, with ID one of ${listenerIds.join(', ')}.`);
        const id = spec.slice(0, eq).trim();
        if (!listenerIds.includes(id)) throw bad(`"${id}" is not a listener fault; they are: ${listenerIds.join(', ')}.`);
        if ((catalogue.get(id) as ListenerFaultDef).socket === 'unix') throw bad(`${id} listens on a unix socket, not a port; give it a path with --listener-fault-path ${id}=PATH.`);
        if (id in listenerFaultPorts) throw bad(`${id} already has port ${listenerFaultPorts[id]}; give each listener fault one port.`);
        listenerFaultPorts[id] = parseWholeNumber(`--listener-fault-port ${id}=`, spec.slice(eq + 1), PORT);
      }
      const unixIds = listenerIds.filter((id) => (catalogue.get(id) as ListenerFaultDef).socket === 'unix');
      const listenerFaultPaths: Record<string, string> = {};
      for (const spec of argv['listener-fault-path'] ?? []) {
        const bad = (why: string) => new InputError('BG_BAD_FLAG', `--listener-fault-path ${spec}: ${why}`);
        const eq = spec.indexOf('=');
        const id = eq === -1 ? '' : spec.slice(0, eq).trim();
        if (eq === -1 || spec.slice(eq + 1) === '') throw bad(`expected ID=PATH, e.g. fcgi-pool-full=/tmp/full.sock, with ID one of ${unixIds.join(', ')}.`);
        if (!unixIds.includes(id)) throw bad(`"${id}" is not a unix-socket listener fault; they are: ${unixIds.join(', ')} (give the others a port with --listener-fault-port).`);
        if (id in listenerFaultPaths) throw bad(`${id} already has path ${listenerFaultPaths[id]}; give each listener fault one path.`);
        listenerFaultPaths[id] = spec.slice(eq + 1);
      }
      const dnsAddresses = argv['dns-address']
        ? { a: argv['dns-address'].filter((a) => !a.includes(':')), aaaa: argv['dns-address'].filter((a) => a.includes(':')) }
        : undefined;
      const tls = argv.tls ? await servePki(argv['tls-dir']) : undefined;
      // The temporary certificates go when serve does, started or not.
      const chaos = await startChaos({
        ...(tls ? { tls: { pki: tls.pki }, tlsPort } : {}),
        host: argv.host,
        port,
        unixPath: argv.unix,
        fastcgiPort,
        fastcgiUnixPath: argv['fastcgi-unix'],
        h2Port,
        catalogue,
        routes,
        defaultFault: def.fault,
        defaultParams: def.params,
        fastcgiDefaultFault: fcgiDef?.fault,
        fastcgiDefaultParams: fcgiDef?.params,
        h2DefaultFault: h2Def?.fault,
        h2DefaultParams: h2Def?.params,
        mix: argv.mix === undefined ? undefined : parseMix(argv.mix),
        seed,
        faultPaths: argv['fault-paths'],
        faultHeader: argv['fault-header'] === '' ? false : argv['fault-header'],
        listenerFaults,
        listenerFaultPorts,
        listenerFaultPaths,
        dnsAddresses,
        dnsPort: argv.dns ? dnsPort : false,
        dnsZone: argv['dns-zone'],
        dnsTcpIdleTimeoutMs,
        dnsMaxTcpConnections,
        control: argv.control ? { host: controlHost, port: controlPort, token, eventBufferBytes, suite } : false,
        headTimeoutMs,
        maxHeadBytes,
        maxConnections,
        onGuard: guardWarnings(warn),
      }).catch(async (err: unknown) => {
        await tls?.cleanup();
        throw err;
      });
      if (argv.events) chaos.upstream.events.subscribe((e) => process.stderr.write(JSON.stringify(e) + '\n'));
      // Listening for SIGINT/SIGTERM before the listing goes out: a script that stops serve as soon
      // as it reads the listing would otherwise meet Node's default action, death by the signal.
      const stopped = untilSignal();
      printListeners(chaos, argv.json, suite, tls?.pki);
      await stopped;
      await chaos.close();
      await tls?.cleanup();
    },
  );
}

/** The certificates serve's TLS listeners present, and the files a gateway needs, in `dir` or a temporary folder removed on exit. */
async function servePki(dir: string | undefined): Promise<{ pki: RunPki; cleanup: () => Promise<void> }> {
  if (dir !== undefined) {
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new InputError('BG_BAD_FLAG', `--tls-dir ${dir}: no such folder. Create it first (mkdir -p ${dir}); serve writes tls-ca.pem, tls-client.pem and tls-client-key.pem there.`);
    return { pki: await createRunPki(resolve(dir)), cleanup: async () => {} };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'badgateway-tls-'));
  try {
    return { pki: await createRunPki(tmp), cleanup: () => rm(tmp, { recursive: true, force: true }) };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function printListeners(chaos: StartedChaos, json: boolean, suite?: ServedSuite, pki?: RunPki): void {
  const up = chaos.upstream;
  const dns = chaos.dns;
  const info = {
    upstream: up.listeners.filter((l) => l.fault === undefined),
    listenerFaults: up.listeners.filter((l) => l.fault !== undefined),
    dns: dns ? { host: dns.host, port: dns.port, zone: dns.zone, names: Object.fromEntries(chaos.catalogue.list().flatMap((f) => (f.layer === 'dns' ? [[f.id, dns.nameFor(f.name)]] : []))) } : undefined,
    control: chaos.control ? { url: chaos.control.url } : undefined,
    routing: up.routing,
    guards: up.guards,
    ...(suite ? { suite: { scenarios: suite.scenarios.length, digest: suite.digest, healthPath: suite.healthPath } } : {}),
    tls: pki ? { caFile: pki.caFile, serverName: pki.serverName, clientCertFile: pki.clientCertFile, clientKeyFile: pki.clientKeyFile } : undefined,
  };
  if (json) {
    process.stdout.write(JSON.stringify(info) + '\n');
    return;
  }
  const p = paint(useColor());
  const rows: string[][] = [];
  for (const l of info.upstream) {
    const what =
      l.protocol === 'fastcgi'
        ? `every FastCGI fault at REQUEST_URI /<fault-id>, default ${up.routing.fastcgiDefaultFault ?? 'fcgi-healthy'}`
        : l.protocol === 'h2'
          ? `every HTTP/2 fault at :path /<fault-id> (h2c, prior knowledge), default ${up.routing.h2DefaultFault ?? 'h2-healthy'}`
          : `every exchange fault at /<fault-id>, default ${up.routing.defaultFault}${l.tls ? ` (TLS, SNI ${pki?.serverName})` : ''}`;
    rows.push([l.name, l.url ?? `unix:${l.path}`, what]);
  }
  for (const l of info.listenerFaults) rows.push([l.name, l.kind === 'unix' ? `unix:${l.path}` : `${l.host}:${l.port}`, l.protocol === 'fastcgi' ? 'listener fault (FastCGI)' : l.tls ? 'listener fault (TLS)' : 'listener fault']);
  if (info.tls) rows.push(['tls-ca', info.tls.caFile, `the CA to verify upstream certificates against (client certificate for mTLS: ${info.tls.clientCertFile}, ${info.tls.clientKeyFile})`]);
  if (info.dns) rows.push(['dns', `${info.dns.host}:${info.dns.port} udp+tcp`, `zone ${info.dns.zone}: ${Object.values(info.dns.names).join(', ')}`]);
  if (info.control) rows.push(['control', info.control.url, `GET /api/faults, PUT /api/routing, WebSocket /api/events${suite ? ', GET /api/suite' : ''}`]);
  if (suite) rows.push(['suite', `/s/<scenario>/`, `${suite.scenarios.length} scenarios (suite ${suite.digest.slice(0, 12)}), health check ${suite.healthPath}`]);
  process.stdout.write(`${p('bold', 'badgateway is serving')}\n${table(rows)}\n${p('dim', 'Ctrl-C stops everything.')}\n`);
}

/**
 * A line on stderr when a guard acts, so a full connection table or a slow peer is not silent
 * without --events; at most one line per kind every 10 s, counting the ones in between.
 */
function guardWarnings(warn: (line: string) => void): (e: GuardEvent) => void {
  const last = new Map<string, { at: number; unsaid: number }>();
  return (e) => {
    const now = performance.now();
    const seen = last.get(e.guard);
    const count = e.guard === 'connection-cap' ? e.refused : 1;
    if (seen && now - seen.at < GUARD_WARN_EVERY_MS) {
      seen.unsaid += count;
      return;
    }
    const n = count + (seen?.unsaid ?? 0);
    last.set(e.guard, { at: now, unsaid: 0 });
    const since = seen ? ' since the last warning' : '';
    if (e.guard === 'connection-cap') warn(`warning: the ${e.listener} listener holds ${e.limit} connections (--max-connections); ${n} new connection(s) closed at accept${since}.`);
    // FastCGI has no status to answer a broken request with before it is routed: those are only closed.
    else if (e.guard === 'head-timeout') warn(`warning: ${n} connection(s) did not send a whole request head within ${e.limit} ms (--head-timeout-ms): closed${e.listener.startsWith('fastcgi') ? '' : e.listener === 'h2' ? ', with a GOAWAY if they had sent part of one' : ', with a 408 if they had sent part of one'}${since}.`);
    else if (e.guard === 'fcgi-protocol') warn(`warning: ${n} FastCGI connection(s) broke the protocol before their request was complete (latest: ${e.reason}): closed${since}.`);
    else if (e.guard === 'h2-protocol') warn(`warning: ${n} HTTP/2 connection(s) broke the protocol before their request was routed (latest: ${e.reason}): GOAWAY and closed${since}.`);
    else if (e.listener.startsWith('fastcgi')) warn(`warning: ${n} FastCGI request(s) with PARAMS larger than ${e.limit} bytes (--max-head-bytes): closed${since}.`);
    else warn(`warning: ${n} request head(s) larger than ${e.limit} bytes (--max-head-bytes): answered 431 and closed${since}.`);
  };
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
