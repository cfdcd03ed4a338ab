/**
 * Faults that act before any byte is exchanged: a refused port, a listener
 * whose accept queue is full, and listeners that reset or close on accept.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { chmod, rm } from 'node:fs/promises';
import { InputError, StartError } from '../errors.js';
import type { ListenerBehavior } from '../faults/fault.js';
import { closeServer, listen } from './listen.js';

export interface ListenerFaultHandle {
  readonly behavior: ListenerBehavior;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A listener fault on a unix socket path (a def with `socket: unix`). */
export interface UnixListenerFaultHandle {
  readonly behavior: ListenerBehavior;
  readonly path: string;
  close(): Promise<void>;
}

/**
 * A port with nothing listening behind it, held so that nothing else can listen there. With port
 * 0 the port is the local end of a connection of ours to a peer of ours: the kernel picked it for
 * connect() without SO_REUSEADDR (libuv sets it on every socket it binds, so an explicit bind
 * would not hold anything), so a later bind() or listen() on it fails with EADDRINUSE and port 0
 * never hands it out, while a SYN to it finds no listener and gets the kernel's RST. Taking a free
 * port and releasing it, as this once did, let another listener of the same run take it: nginx
 * then met a reset-on-accept listener behind its "refused" port, and HAProxy a listener that
 * closed (each once in 50 runs of the built-in suite through four gateways at once, whose chaos
 * sides start their listeners together). A port asked for by number is still only checked free
 * and released: its owner chose it.
 */
async function refuse(host: string, port: number): Promise<ListenerFaultHandle> {
  if (port !== 0) {
    const server = createServer();
    await listen(server, { host, port }, 'the connect-refused fault');
    await closeServer(server);
    return { behavior: 'refuse', host, port, close: async () => {} };
  }
  const peers = new Set<Socket>();
  const peer = createServer((s) => {
    s.on('error', () => {});
    peers.add(s);
    s.once('close', () => peers.delete(s));
  });
  await listen(peer, { host, port: 0 }, 'the connect-refused fault');
  const holder = connect({ host, port: (peer.address() as { port: number }).port });
  holder.on('error', () => {});
  const close = async () => {
    // An RST, not a FIN: the side that sends the first FIN keeps the port in TIME_WAIT for a
    // minute, and with the holder's port that would keep it from the next run's listeners.
    // Its descriptor is closed on a later tick: wait for it, or the port is not free yet.
    const gone = holder.closed ? Promise.resolve() : new Promise<void>((resolve) => holder.once('close', () => resolve()));
    if (!holder.destroyed) holder.resetAndDestroy();
    for (const s of peers) s.destroy();
    await Promise.all([gone, closeServer(peer)]);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      holder.once('connect', resolve);
      holder.once('error', reject);
    });
  } catch (err) {
    await close();
    throw new StartError('BG_LISTEN_FAILED', `cannot hold a port on ${host} for the connect-refused fault: ${(err as Error).message}`, { cause: err });
  }
  return { behavior: 'refuse', host, port: holder.localPort!, close };
}

// Runs in a worker: listen with a tiny backlog (1: Node reads 0 as "default",
// 511), report the port, then block the worker's event loop so libuv never
// calls accept(). The kernel completes handshakes until the accept queue is
// full, then drops SYNs.
const QUEUE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.on('error', (err) => parentPort.postMessage({ error: err.code || err.message }));
const at = workerData.path === undefined ? { host: workerData.host, port: workerData.port } : { path: workerData.path };
server.listen({ ...at, backlog: 1 }, () => {
  parentPort.postMessage({ port: workerData.path === undefined ? server.address().port : 0 });
  Atomics.wait(workerData.gate, 0, 0);
  server.close();
  process.exit(0);
});
`;

async function acceptQueueFull(host: string, port: number): Promise<ListenerFaultHandle> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(QUEUE_WORKER, { eval: true, workerData: { host, port, gate } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const actual = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port?: number; error?: string }) => {
      if (m.port !== undefined) resolve(m.port);
      else reject(new Error(m.error));
    });
    worker.once('error', reject);
  }).catch(async (err: Error) => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
    // Reuse listen()'s wording for the usual errors.
    const probe = createServer();
    await listen(probe, { host, port }, 'the accept-queue-full fault');
    await closeServer(probe);
    throw err;
  });
  // Fill the accept queue with our own connections: once a connect does not
  // complete promptly, the queue is full and every later SYN is dropped.
  const fillers: Socket[] = [];
  for (let i = 0; i < 64; i++) {
    const s = connect({ host, port: actual });
    s.on('error', () => {});
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 150);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!ok) {
      s.destroy();
      break;
    }
    fillers.push(s);
  }
  let closed = false;
  return {
    behavior: 'accept-queue-full',
    host,
    port: actual,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of fillers) s.destroy();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      const timer = setTimeout(() => void worker.terminate(), 1000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function onAccept(behavior: 'reset-on-accept' | 'close-on-accept', host: string, port: number, onConn?: (remote: string) => void): Promise<ListenerFaultHandle> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConn?.(`${socket.remoteAddress}:${socket.remotePort}`);
    if (behavior === 'reset-on-accept') socket.resetAndDestroy();
    else socket.end(() => socket.destroy());
  });
  await listen(server, { host, port }, `the ${behavior} fault`);
  return {
    behavior,
    host,
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/**
 * accept-queue-full on a unix socket (mode 0666: a gateway in a container, as another user,
 * reaches it through the mounted run dir). The kernel queues unix connections up to the backlog
 * (1 queues two) and then refuses a non-blocking connect() with EAGAIN: libuv reports it, so our
 * fillers stop at the first EAGAIN, which proves the queue full before anyone else connects.
 */
export async function startUnixListenerFault(behavior: ListenerBehavior, path: string): Promise<UnixListenerFaultHandle> {
  if (behavior !== 'accept-queue-full') {
    throw new InputError('BG_BAD_OPTION', `the ${behavior} listener behaviour has no unix-socket form in badgateway; only accept-queue-full does. Give the fault a TCP port instead.`);
  }
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(QUEUE_WORKER, { eval: true, workerData: { path, gate } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let bound = false;
  const release = async () => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const timer = setTimeout(() => void worker.terminate(), 1000);
    await exited;
    clearTimeout(timer);
    // server.close() unlinks the path; a terminated worker does not. A path we never bound is someone else's.
    if (bound) await rm(path, { force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { port?: number; error?: string }) => (m.error === undefined ? ((bound = true), resolve()) : reject(new Error(m.error))));
      worker.once('error', reject);
    });
    await chmod(path, 0o666);
  } catch (err) {
    await release().catch(() => {});
    const code = (err as Error).message;
    const why = code === 'EADDRINUSE' ? 'something already exists at that path; remove it or choose another path' : code === 'EACCES' ? 'no permission to create a socket there' : code;
    throw new StartError('BG_LISTEN_FAILED', `cannot listen on ${path} for the accept-queue-full fault (unix): ${why}.`, { cause: err });
  }
  const fillers: Socket[] = [];
  let full = false;
  for (let i = 0; i < 64 && !full; i++) {
    const s = connect({ path });
    const outcome = await new Promise<string>((resolve) => {
      s.once('connect', () => resolve('connect'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    s.on('error', () => {});
    if (outcome === 'connect') fillers.push(s);
    else {
      s.destroy();
      if (outcome !== 'EAGAIN') {
        for (const f of fillers) f.destroy();
        await release();
        throw new StartError('BG_LISTEN_FAILED', `cannot fill the accept queue of ${path}: connect() failed with ${outcome}, not EAGAIN.`);
      }
      full = true;
    }
  }
  if (!full) {
    for (const f of fillers) f.destroy();
    await release();
    throw new StartError('BG_LISTEN_FAILED', `the accept queue of ${path} took ${fillers.length} connections without refusing one; the kernel ignores its backlog of 1.`);
  }
  let closed = false;
  return {
    behavior,
    path,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of fillers) s.destroy();
      await release();
    },
  };
}

export function startListenerFault(behavior: ListenerBehavior, host: string, port = 0, onConn?: (remote: string) => void): Promise<ListenerFaultHandle> {
  switch (behavior) {
    case 'refuse':
      return refuse(host, port);
    case 'accept-queue-full':
      return acceptQueueFull(host, port);
    case 'reset-on-accept':
    case 'close-on-accept':
      return onAccept(behavior, host, port, onConn);
    case 'tls':
      // Started by the upstream with its certificates (src/tls/listener.ts), never here.
      throw new InputError('BG_BAD_OPTION', 'a TLS listener fault needs the run\'s certificates: start it through startUpstream with tls: { pki }.');
  }
}
