/**
 * gunicorn as a backend: our own arbiter (never a system service) with `--workers 1 --timeout N`
 * and a tiny WSGI app written into the backend's directory. The sync worker tells its arbiter it
 * is alive only between requests, so an app that takes longer than `--timeout` is killed
 * mid-request (SIGABRT, then a fresh worker), as in production.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKEND_BINARIES, type GunicornSpec, type RunningBackend } from './backend.js';
import { failedStart, owned, startGroup, waitFor } from './process-group.js';

const LOG = 'gunicorn.log';

/** The WSGI app for a spec: Python source with the spec's numbers written in. */
export function wsgiApp(spec: GunicornSpec): string {
  const lines = ['import time', '', `SLEEP_MS = ${Math.round(spec.sleepMs)}`, `INTERVAL_MS = ${Math.max(1, Math.round(spec.intervalMs))}`, ''];
  if (spec.app === 'slow') {
    lines.push(
      'def app(environ, start_response):',
      '    time.sleep(SLEEP_MS / 1000)',
      "    body = b'slow app answered\\n'",
      "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])",
      '    return [body]',
    );
  } else {
    // Content-Length announces the whole body, so a worker killed half-way is a short body, not an end.
    lines.push(
      'def app(environ, start_response):',
      '    n = max(1, SLEEP_MS // INTERVAL_MS)',
      "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(8 + 8 * n))])",
      '    def body():',
      "        yield b'started\\n'",
      '        for i in range(n):',
      '            time.sleep(INTERVAL_MS / 1000)',
      "            yield b'%07d\\n' % i",
      '    return body()',
    );
  }
  return lines.join('\n') + '\n';
}

/** The arguments gunicorn runs with: port 0 (it logs the port it got), one sync worker, the spec's timeout. */
export function gunicornArgs(dir: string, spec: GunicornSpec, host = '127.0.0.1'): string[] {
  return ['--bind', `${host}:0`, '--workers', '1', '--worker-class', 'sync', '--timeout', String(spec.timeout), '--graceful-timeout', '1', '--chdir', dir, '--worker-tmp-dir', dir, '--error-logfile', '-', 'bg_app:app'];
}

/** Starts gunicorn in `dir` (created here, removed on close) and waits until its worker is up. */
export async function startGunicorn(spec: GunicornSpec, dir: string, opts: { readonly startTimeoutMs?: number } = {}): Promise<RunningBackend> {
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'bg_app.py'), wsgiApp(spec));
  const logFile = join(dir, LOG);
  const group = startGroup(BACKEND_BINARIES.gunicorn.path, gunicornArgs(dir, spec), { cwd: dir, outFile: logFile });
  const log = () => readFile(logFile, 'utf8').catch(() => '');
  let port: number | undefined;
  // Ready when the arbiter says where it listens and its worker has booted.
  const ready = await waitFor(
    async () => {
      const text = await log();
      const m = /Listening at: http:\/\/[^:]+:(\d+)/.exec(text);
      if (m) port = Number(m[1]);
      return port !== undefined && /Booting worker with pid/.test(text);
    },
    group.isDead,
    timeoutMs,
  );
  const it = owned(group, dir);
  if (!ready) await failedStart('gunicorn', `${BACKEND_BINARIES.gunicorn.path} ${gunicornArgs(dir, spec).join(' ')}`, group, log, it, timeoutMs);
  return {
    spec,
    address: { kind: 'tcp', host: '127.0.0.1', port: port! },
    protocol: 'http',
    pid: group.child.pid,
    log,
    ...it,
  };
}
