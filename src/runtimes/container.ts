/**
 * The container runtime: the gateway in a container (testcontainers), with
 * host networking so it reaches the chaos upstream on 127.0.0.1 and the probes
 * reach it there too. Its prefix is bind-mounted at the same path, so config,
 * logs and unix sockets are where the harness expects them. Ryuk, the
 * testcontainers reaper, is off unless you turn it on: this runtime removes
 * what it starts itself, and labels it so leftovers of a killed run can be found.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { StartError } from '../errors.js';
import type { GatewayAdapter } from '../gateways/gateway.js';
import { OUTPUT_LOG, readVersion, removePrefix, runningGateway, writeConfig } from './files.js';
import { constants as osConstants } from 'node:os';
import type { Availability, GatewayExit, Runtime, RunningGateway, StartInput } from './runtime.js';
import { waitReady } from './wait.js';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

export const RUN_LABEL = 'org.badgateway.run';
/** One value per start, to find a container that was created but failed to start. */
const START_LABEL = 'org.badgateway.start';

/** Remove what a failed start left (a container created whose process could not run). */
async function removeStarted(startId: string): Promise<void> {
  try {
    const { getContainerRuntimeClient } = await tc();
    const client = await getContainerRuntimeClient();
    const left = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${START_LABEL}=${startId}`] } });
    await Promise.all(left.map((c) => client.container.getById(c.Id).remove({ force: true, v: true }).catch(() => {})));
  } catch {
    /* the engine is gone: nothing to remove */
  }
}

async function tc() {
  return import('testcontainers');
}

function dockerHint(): string {
  return 'Install and start a Docker engine (Debian: apt-get install docker.io, then start dockerd), or use --runtime process.';
}

async function dockerAnswers(): Promise<string | undefined> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return `no Docker engine: /var/run/docker.sock does not exist and DOCKER_HOST is not set. ${dockerHint()}`;
  try {
    const { getContainerRuntimeClient } = await tc();
    const client = await withTimeout(getContainerRuntimeClient(), 5000);
    await withTimeout(client.info, 1);
    return undefined;
  } catch (err) {
    return `the Docker engine does not answer (${(err as Error).message.split('\n')[0]}). ${dockerHint()}`;
  }
}

async function imagePresent(image: string): Promise<boolean> {
  const { getContainerRuntimeClient, ImageName } = await tc();
  const client = await getContainerRuntimeClient();
  return client.image.exists(ImageName.fromString(image));
}

/** Pull an image; undefined when it worked, else why not (first line). */
async function pull(image: string): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient, ImageName } = await tc();
    const client = await getContainerRuntimeClient();
    await withTimeout(client.image.pull(ImageName.fromString(image)), 300_000);
    return undefined;
  } catch (err) {
    return `not present and could not be pulled (${(err as Error).message.split('\n')[0]})`;
  }
}

function withTimeout<T>(p: Promise<T> | T, ms: number): Promise<T> {
  return Promise.race([
    Promise.resolve(p),
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

/** Enough for HAProxy's FATAL line and its call trace, or nginx's last alerts (as the process runtime). */
const CRASH_TAIL_LINES = 20;

/**
 * Settles when the container's process exits while nobody is closing it. The engine knows only
 * an exit code; a process killed by a signal exits 128 + its number, which names the signal.
 */
function containerExit(id: string, closing: () => boolean, tailNow: () => Promise<string>): Promise<GatewayExit> {
  const never = new Promise<never>(() => {});
  return (async () => {
    const { getContainerRuntimeClient } = await tc();
    const client = await getContainerRuntimeClient();
    const r = (await client.container.dockerode.getContainer(id).wait()) as { StatusCode?: number };
    if (closing()) return never;
    const code = typeof r.StatusCode === 'number' ? r.StatusCode : null;
    const signal = code !== null && code > 128 ? (Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0] ?? null) : null;
    return { code, signal, lastLogLines: (await tailNow()).split('\n') };
  })().catch(() => never);
}

export const containerRuntime: Runtime = {
  kind: 'container',

  async available(adapter: GatewayAdapter, image?: string): Promise<Availability> {
    if (adapter.supportsContainer === false) return { ok: false, why: `the container runtime does not support ${adapter.id} yet; use --runtime process.` };
    const why = await dockerAnswers();
    if (why) return { ok: false, why };
    // An explicit --image must be there (or pullable); without one, the official image
    // first, then the one scripts/build-gateway-image.sh builds without a registry.
    const candidates = image ? [image] : [...new Set([adapter.defaultImage, adapter.localImage])];
    const failures: string[] = [];
    for (const img of candidates) {
      if (await imagePresent(img)) return { ok: true, image: img };
      const pulled = await pull(img);
      if (pulled === undefined) return { ok: true, image: img };
      failures.push(`${img}: ${pulled}`);
    }
    return {
      ok: false,
      why: `no usable image (${failures.join('; ')}). Without a registry, build one with \`scripts/build-gateway-image.sh ${adapter.id}\` (it makes ${adapter.localImage}), or pass --image.`,
    };
  },

  async start(input: StartInput): Promise<RunningGateway> {
    const { adapter, prefix } = input;
    const image = input.image ?? adapter.localImage;
    const { GenericContainer, Wait } = await tc();
    const configPath = await writeConfig(prefix, input.config);
    const mounts = [prefix, ...(input.extraMounts ?? [])].map((d) => ({ source: d, target: d, mode: 'rw' as const }));
    const startId = `${process.pid}-${randomUUID()}`;
    let container: Awaited<ReturnType<InstanceType<typeof GenericContainer>['start']>>;
    try {
      container = await new GenericContainer(image)
        .withNetworkMode('host')
        .withBindMounts(mounts)
        .withEntrypoint([adapter.binary])
        .withEnvironment({ ...adapter.env?.(prefix) })
        .withCommand(adapter.args(prefix, configPath, { listen: input.listen }))
        .withLabels({ [RUN_LABEL]: String(process.pid), [START_LABEL]: startId })
        // Host networking exposes no ports to wait on; readiness is checked below, on the gateway's own address.
        .withWaitStrategy(Wait.forListeningPorts())
        .withStartupTimeout(input.startTimeoutMs ?? 30_000)
        .start();
    } catch (err) {
      await removeStarted(startId);
      await removePrefix(prefix);
      const msg = (err as Error).message.split('\n')[0]!.trim();
      // An image of another layout (e.g. the official httpd image has httpd, not Debian's apache2).
      const hint = /executable file not found|no such file or directory/i.test(msg) ? ` The image must have ${adapter.binary} on its PATH; ${adapter.localImage} (scripts/build-gateway-image.sh ${adapter.id}) does.` : '';
      throw new StartError('BG_CONTAINER_START', `could not start ${adapter.id} from image ${image}: ${msg}${hint}`, { cause: err });
    }
    let closed = false;
    // The container's stdout and stderr go to the same file as the process runtime's (for the log tail).
    const outFile = join(prefix, OUTPUT_LOG);
    const logStream = await container.logs().catch(() => undefined);
    let lastOutputAt = Date.now();
    logStream?.on('data', (d: Buffer | string) => {
      lastOutputAt = Date.now();
      try {
        appendFileSync(outFile, d.toString());
      } catch {
        /* the prefix is gone: the gateway is stopping */
      }
    });
    logStream?.on('error', () => {});
    const version = await readVersion(adapter, async (args) => `${(await container.exec([adapter.binary, ...args]).catch(() => undefined))?.output ?? ''}`);
    const { gateway, logTail, stop } = runningGateway(input, 'container', version, image, () => '', async () => {
      closed = true;
      try {
        await container.stop({ timeout: 2, remove: true });
      } catch {
        /* already gone */
      }
      await removePrefix(prefix);
    }, () => {
      closed = true;
      // No time to ask the engine politely: the CLI removes it in one synchronous call.
      spawnSync('docker', ['rm', '-f', container.getId()], { stdio: 'ignore', timeout: 10_000 });
    }, adapter.logDump ? async (argv) => {
      const r = await container.exec([...argv]).catch((err: Error) => ({ exitCode: 1, stdout: '', stderr: err.message }));
      return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    } : undefined);
    const ready = await waitReady(input.listen.host, input.listen.port, input.readyPath, input.startTimeoutMs ?? 15_000, () => closed);
    if (!ready) {
      const logs = await logTail();
      await stop();
      throw new StartError('BG_GATEWAY_START', `${adapter.id} in container ${image} did not answer on ${input.listen.host}:${input.listen.port}. Its log tail is below.`, { logTail: logs });
    }
    const exited = containerExit(container.getId(), () => closed, async () => {
      // The last lines reach us through Docker's log stream a moment after the gateway wrote them.
      const deadline = Date.now() + 2000;
      while (Date.now() - lastOutputAt < 300 && Date.now() < deadline) await sleep(50);
      return logTail(CRASH_TAIL_LINES);
    });
    // Lines reach us through Docker's log stream a moment after the gateway wrote them:
    // when the adapter parses its output, read once the stream has been quiet for a little
    // while (bounded). Log files under the prefix and syslog lines (HAProxy) need no wait.
    if (!adapter.logFiles.includes(OUTPUT_LOG)) return { ...gateway, exited };
    return {
      ...gateway,
      exited,
      readLogs: async () => {
        const deadline = Date.now() + 5000;
        while (Date.now() - lastOutputAt < 1000 && Date.now() < deadline) await sleep(50);
        return gateway.readLogs();
      },
    };
  },
};

export default containerRuntime;
