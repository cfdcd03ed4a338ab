/** Binding with errors a user can act on. */
import type { Server } from 'node:net';
import { StartError } from '../errors.js';

export function listen(server: Server, opts: { host?: string; port?: number; path?: string; backlog?: number }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const addr = opts.path ?? `${opts.host}:${opts.port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new StartError(
            'BG_ADDRESS_IN_USE',
            opts.path
              ? `cannot listen on ${addr} for ${what}: the socket file already exists. Remove it if no process uses it, or pick another path.`
              : `cannot listen on ${addr} for ${what}: the port is already in use. Stop the process that holds it (\`ss -ltnp 'sport = :${opts.port}'\` shows it) or pick another port (0 picks a free one).`,
            { cause: err },
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(new StartError('BG_ADDRESS_DENIED', `cannot listen on ${addr} for ${what}: permission denied. Ports below 1024 need privileges; pick a higher port.`, { cause: err }));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new StartError('BG_ADDRESS_UNAVAILABLE', `cannot listen on ${addr} for ${what}: no local interface has that address.`, { cause: err }));
      } else {
        reject(new StartError('BG_LISTEN_FAILED', `cannot listen on ${addr} for ${what}: ${err.message}`, { cause: err }));
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (opts.path !== undefined) server.listen({ path: opts.path, backlog: opts.backlog });
    else server.listen({ host: opts.host, port: opts.port ?? 0, backlog: opts.backlog });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
