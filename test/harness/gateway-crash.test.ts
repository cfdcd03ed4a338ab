/**
 * A gateway that dies mid-run is a finding: a real HAProxy is killed by the test while one
 * scenario's request is in flight (a signal to its process, the same exit a segfault gives), and
 * the run must blame that scenario ("gateway crashed", with the signal and the last log lines),
 * restart the gateway on the same address, and carry on with the rest of the suite, leaving no
 * process or file behind. Two scenarios in flight at once are re-run one at a time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runSuite, startGateway, type SuiteResult } from '../../src/index.js';
import { NOT_CRASHED } from '../../src/harness/evaluate.js';
import { RUN_LABEL } from '../../src/runtimes/container.js';
import { findBinary } from '../../src/runtimes/process.js';
import { satisfies } from '../../src/scenarios/scenario.js';
import { crashCause } from '../../src/harness/crash.js';
import { dockerImagePresent, containersLabelled } from '../helpers/docker.js';
import { leftIn, processesNaming, usePrivateTmpdir } from '../helpers/interrupt.js';

const binary = await findBinary('haproxy');
const IMAGE = 'badgateway/haproxy:bookworm';

// The gateway's prefix and the run dir land here, so its processes are found by it.
const tmp = usePrivateTmpdir('badgateway-test-crash-');

/** A suite folder of scenario files (name → YAML), in a folder of its own outside TMPDIR's count. */
async function suiteOf(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmp.outer, 'badgateway-test-crash-suite-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const healthy = (id: string) => `description: the control, ${id}\nfault: healthy\nexpect:\n  haproxy: {status: 200, body: complete}\n`;
/** A request the upstream answers after 3 s: in flight long enough for the test to kill the gateway under it. */
const slow = (expect: string) => `description: a slow answer the gateway dies under\nfault: {id: slow-response, params: {delayMs: 3000}}\nrequest: {timeoutMs: 8000}\nexpect:\n  haproxy: ${expect}\n`;

/** The gateway's own process (the haproxy the runtime started under our TMPDIR): its pid. */
function gatewayPid(): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-P', String(process.pid), '-f', tmp.dir], { encoding: 'utf8' }).trim().split('\n');
    return out.length === 1 ? Number(out[0]) : undefined;
  } catch {
    return undefined;
  }
}

function caseOf(r: SuiteResult, id: string) {
  const c = r.runs[0]!.cases.find((x) => x.scenario.id === id);
  expect(c, `scenario ${id} ran`).toBeDefined();
  return c!;
}

describe('a gateway that crashes mid-run', () => {
  test.skipIf(binary === undefined && !process.env.CI)('process runtime: the scenario in flight is blamed, the gateway restarted, the rest of the suite runs', { timeout: 60_000 }, async () => {
    expect(binary, 'CI must provide haproxy (apt-get install haproxy)').toBeDefined();
    const suite = await suiteOf({
      'a-healthy.yaml': healthy('before the crash'),
      'b-victim.yaml': slow('{gateway: crashes}'),
      'c-healthy.yaml': healthy('after the crash'),
      'd-expects-crash.yaml': `description: expects a crash that does not come\nfault: healthy\nexpect:\n  haproxy: {gateway: crashes}\n`,
    });
    let killed: number | undefined;
    let after: number | undefined;
    try {
      const r = await runSuite({
        gateways: ['haproxy'],
        runtime: 'process',
        suite,
        concurrency: 1,
        timeouts: { readMs: 6000 },
        progress: {
          // Expected to crash it, b-victim runs first and alone: its request is the one in flight.
          onGatewayReady() {
            setTimeout(() => {
              killed = gatewayPid();
              if (killed !== undefined) process.kill(killed, 'SIGSEGV');
            }, 700);
          },
          onProbed({ scenario }) {
            if (scenario.id === 'c-healthy') after = gatewayPid();
          },
        },
      });
      expect(killed, 'the test found the gateway process to kill').toBeDefined();
      const victim = caseOf(r, 'b-victim');
      expect(victim.observed.crash?.signal).toBe('SIGSEGV');
      expect(victim.observed.crash?.inFlightWith).toBeUndefined();
      expect(victim.observed.crash?.lastLogLines.join('\n')).not.toBe('');
      // Expected to crash, and it did.
      expect(victim.verdict).toEqual({ pass: true, mismatches: [] });
      // The rest of the suite ran, on a new gateway process on the same address.
      expect(caseOf(r, 'a-healthy').verdict?.pass).toBe(true);
      expect(caseOf(r, 'c-healthy').verdict?.pass).toBe(true);
      expect(caseOf(r, 'c-healthy').observed.crash).toBeUndefined();
      expect(after).toBeDefined();
      expect(after).not.toBe(killed);
      const noCrash = caseOf(r, 'd-expects-crash');
      expect(noCrash.verdict?.pass).toBe(false);
      expect(noCrash.verdict?.mismatches.map((m) => m.message)).toEqual([NOT_CRASHED]);
      expect(r.passed).toBe(3);
      expect(r.failed).toBe(1);
      // Nothing left: neither the restarted gateway nor the dead one's files.
      expect(processesNaming(tmp.dir)).toBe('');
      expect(await leftIn(tmp.dir)).toEqual([]);
    } finally {
      await rm(suite, { recursive: true, force: true });
    }
  });

  test.skipIf(binary === undefined && !process.env.CI)('process runtime: two scenarios in flight are re-run one at a time; when neither kills it alone, both carry the crash', { timeout: 60_000 }, async () => {
    const suite = await suiteOf({
      'a-healthy.yaml': healthy('first'),
      'b-slow.yaml': slow('{status: 200, body: complete}'),
      'c-slow.yaml': slow('{status: 200, body: complete}'),
    });
    try {
      const started = performance.now();
      const r = await runSuite({
        gateways: ['haproxy'],
        runtime: 'process',
        suite,
        concurrency: 3,
        timeouts: { readMs: 6000 },
        progress: {
          onProbed({ scenario }) {
            if (scenario.id !== 'a-healthy') return;
            setTimeout(() => {
              const pid = gatewayPid();
              if (pid !== undefined) process.kill(pid, 'SIGKILL');
            }, 700);
          },
        },
      });
      for (const [id, other] of [['b-slow', 'c-slow'], ['c-slow', 'b-slow']] as const) {
        const c = caseOf(r, id);
        expect(c.observed.crash?.signal).toBe('SIGKILL');
        expect(c.observed.crash?.inFlightWith).toEqual([other]);
        // Not expected to crash: the crash is the failure, said as such.
        expect(c.verdict?.pass).toBe(false);
        expect(c.verdict?.mismatches).toEqual([{ field: 'gateway', expected: 'running', observed: 'crashed (signal SIGKILL)', message: 'the gateway crashed (signal SIGKILL) during this scenario' }]);
      }
      expect(caseOf(r, 'a-healthy').verdict?.pass).toBe(true);
      // Each slow scenario ran again alone (3 s each, one after the other) on the restarted gateway:
      // together they would have taken 3 s.
      expect(performance.now() - started).toBeGreaterThan(2 * 3000);
      expect(processesNaming(tmp.dir)).toBe('');
      expect(await leftIn(tmp.dir)).toEqual([]);
    } finally {
      await rm(suite, { recursive: true, force: true });
    }
  });

  test.skipIf(binary === undefined && !process.env.CI)('startGateway: check() of the scenario it dies under says so, and the next check runs on the gateway started again at the same URL', { timeout: 60_000 }, async () => {
    const suite = await suiteOf({ 'a-healthy.yaml': healthy('after'), 'b-victim.yaml': slow('{gateway: crashes}') });
    try {
      const gw = await startGateway({ gateway: 'haproxy', runtime: 'process', suite, timeouts: { readMs: 6000 } });
      try {
        const url = gw.url;
        const killed = gatewayPid();
        const timer = setTimeout(() => process.kill(killed!, 'SIGSEGV'), 700);
        const victim = await gw.check('b-victim');
        clearTimeout(timer);
        expect(victim.observed.crash?.signal).toBe('SIGSEGV');
        expect(victim.verdict?.pass).toBe(true);
        const next = await gw.check('a-healthy');
        expect(next.verdict?.pass).toBe(true);
        expect(gw.url).toBe(url);
        expect(gatewayPid()).not.toBe(killed);
      } finally {
        await gw.close();
      }
      expect(processesNaming(tmp.dir)).toBe('');
      expect(await leftIn(tmp.dir)).toEqual([]);
    } finally {
      await rm(suite, { recursive: true, force: true });
    }
  });

  // The measured case (issue #11): HAProxy 2.6's FastCGI mux dies of a 100 KiB response header.
  const version = binary === undefined ? undefined : execFileSync(binary, ['-v'], { encoding: 'utf8' }).match(/version (\d+\.\d+\.\d+)/)?.[1];
  test.skipIf(version === undefined || !satisfies(version, '<3.0'))('the real thing: HAProxy 2.6 dies with SIGSEGV of fcgi-huge-header and of fcgi-stderr-flood; the scenarios in flight with them still pass', { timeout: 60_000 }, async () => {
    const only = ['fcgi-huge-header', 'fcgi-stderr-flood', 'fcgi-healthy', 'healthy', 'slow-response-under-timeout', 'empty-reply'];
    // Expected to crash it, the two run alone first; the others then run together on the restarted gateway.
    const r = await runSuite({ gateways: ['haproxy'], runtime: 'process', only, concurrency: 64 });
    const huge = caseOf(r, 'fcgi-huge-header');
    expect(huge.observed.crash?.signal).toBe('SIGSEGV');
    expect(huge.observed.crash?.inFlightWith).toBeUndefined();
    expect(crashCause(huge.observed.crash!)).toBe('FATAL: bug condition "c_empty(ic)" matched at src/stconn.c:1479');
    expect(huge.verdict?.pass).toBe(true);
    const flood = caseOf(r, 'fcgi-stderr-flood');
    expect(flood.observed.crash?.signal).toBe('SIGSEGV');
    expect(flood.verdict?.pass).toBe(true);
    for (const id of only.slice(2)) {
      expect(caseOf(r, id).observed.crash, id).toBeUndefined();
      expect(caseOf(r, id).verdict?.pass, id).toBe(true);
    }
    expect(r.failed).toBe(0);
    expect(processesNaming(tmp.dir)).toBe('');
    expect(await leftIn(tmp.dir)).toEqual([]);
  });

  const why = dockerImagePresent(IMAGE);
  test.skipIf(why !== undefined && !process.env.CI)('container runtime: the container that dies is blamed, started again, and removed at the end', { timeout: 120_000 }, async () => {
    expect(why, `CI must provide Docker and ${IMAGE} (scripts/build-gateway-image.sh haproxy)`).toBeUndefined();
    const suite = await suiteOf({
      'a-healthy.yaml': healthy('before the crash'),
      'b-victim.yaml': slow('{gateway: crashes}'),
      'c-healthy.yaml': healthy('after the crash'),
    });
    const label = `${RUN_LABEL}=${process.pid}`;
    try {
      const r = await runSuite({
        gateways: ['haproxy'],
        runtime: 'container',
        image: IMAGE,
        suite,
        concurrency: 1,
        timeouts: { readMs: 6000 },
        progress: {
          // b-victim, expected to crash it, runs first and alone.
          onGatewayReady() {
            // HAProxy is the container's PID 1: only SIGKILL reaches it from outside its namespace.
            setTimeout(() => {
              for (const id of containersLabelled(label)) execFileSync('docker', ['kill', '--signal', 'KILL', id], { stdio: 'ignore' });
            }, 700);
          },
        },
      });
      const victim = caseOf(r, 'b-victim');
      // The engine knows the exit code only: 137 = 128 + SIGKILL's 9.
      expect(victim.observed.crash).toMatchObject({ signal: 'SIGKILL', code: 137 });
      expect(victim.verdict?.pass).toBe(true);
      expect(caseOf(r, 'a-healthy').verdict?.pass).toBe(true);
      expect(caseOf(r, 'c-healthy').verdict?.pass).toBe(true);
      expect(containersLabelled(label)).toEqual([]);
      expect(await leftIn(tmp.dir)).toEqual([]);
    } finally {
      await rm(suite, { recursive: true, force: true });
    }
  });
});
