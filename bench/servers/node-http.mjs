#!/usr/bin/env node
/**
 * The baseline: a bare node:http hello server answering every request with the
 * same bytes of content as the upstream's healthy fault (200, "ok\n",
 * Content-Type: text/plain, Content-Length: 3, keep-alive). node:http adds its
 * own Date, Connection and Keep-Alive headers, as any node:http backend would.
 *
 *   node bench/servers/node-http.mjs [--port N] [--exit-on-stdin-close]
 *
 * Prints {"port":N,"pid":P} on stdout once listening; exits on SIGTERM.
 */
import { createServer } from 'node:http';
import { announce, exitOn, fail } from './lifecycle.mjs';

const BODY = Buffer.from('ok\n', 'latin1');
const HEADERS = { 'Content-Type': 'text/plain', 'Content-Length': String(BODY.length) };

const i = process.argv.indexOf('--port');
const port = i === -1 ? 0 : Number(process.argv[i + 1]);

const server = createServer((req, res) => {
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
server.once('error', (err) => fail('the node:http server failed to start', err));
server.listen({ host: '127.0.0.1', port }, () => {
  exitOn(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  announce(server.address().port, { server: 'node:http hello' });
});
