/**
 * Shared by the benchmark server scripts: announce the port as one JSON line on
 * stdout, and exit cleanly on SIGTERM/SIGINT (cleanly, so `node --cpu-prof`
 * gets to write its profile). With --exit-on-stdin-close the server also exits
 * when its parent goes away (the parent holds our stdin open), so a killed
 * benchmark never leaves servers behind.
 */
export function announce(port, extra = {}) {
  process.stdout.write(JSON.stringify({ port, pid: process.pid, ...extra }) + '\n');
}

export function exitOn(stop) {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    try {
      await stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (process.argv.includes('--exit-on-stdin-close')) {
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }
}

export function fail(what, err) {
  process.stderr.write(`${what}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
}
