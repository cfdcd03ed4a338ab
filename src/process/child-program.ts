/**
 * The supervised backend: a small Node HTTP server, run as `node -e <this source> <config> <tag>`
 * so the same text runs from dist/ and from the sources under vitest (a .ts file could not be
 * forked by a plain node). It decides nothing: for every request it asks the supervisor over
 * IPC what to do (answer, answer after a delay and drain, or write part of an answer and
 * SIGKILL itself), so the fault's trigger is the scenario's request count kept in one place.
 * Its config (argv[1]): { host, port, bodyBytes, standby }. The tag (argv[2]) only names the process,
 * so a test can find it with pgrep.
 */
export const CHILD_SOURCE = String.raw`
'use strict';
const http = require('node:http');
const cfg = JSON.parse(process.argv[1]);
const line = 'badgateway process child: healthy\n';
const body = Buffer.from(line.repeat(Math.ceil(cfg.bodyBytes / line.length)).slice(0, cfg.bodyBytes), 'latin1');
const pending = new Map();
let seq = 0;
let draining = false;
// Our own parent gone (the harness killed, or its IPC channel closed): nothing must outlive it.
process.on('disconnect', () => process.exit(0));
const server = http.createServer((req, res) => {
  req.on('error', () => {});
  res.on('error', () => {});
  const id = ++seq;
  pending.set(id, { req, res });
  res.on('close', () => pending.delete(id));
  process.send({ t: 'req', id, url: req.url });
});
server.on('connection', (s) => s.on('error', () => {}));
server.keepAliveTimeout = 5000;
function drain() {
  if (draining) return;
  draining = true;
  // Stop accepting now; exit once the connections still open (requests in flight) are done.
  server.close(() => process.exit(0));
  process.send({ t: 'closed' });
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 30000).unref();
}
process.on('message', (m) => {
  if (!m || m.t !== 'go') return;
  const p = pending.get(m.id);
  if (!p) return;
  const a = m.action;
  if (a.kind === 'kill') {
    if (a.sentBytes < 0) return process.kill(process.pid, 'SIGKILL');
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ' + body.length + '\r\n\r\n';
    // Killed once the bytes are in the kernel's send buffer: the kernel then sends them and closes.
    p.req.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(0, a.sentBytes)]), () => process.kill(process.pid, 'SIGKILL'));
    return;
  }
  if (a.drain) drain();
  const send = () => {
    const headers = { 'Content-Type': 'text/plain', 'Content-Length': body.length };
    if (draining) headers.Connection = 'close';
    p.res.writeHead(200, headers);
    p.res.end(body);
    if (draining) server.closeIdleConnections();
  };
  if (a.delayMs > 0) setTimeout(send, a.delayMs);
  else send();
});
server.on('error', (err) => process.send({ t: 'listen-error', code: err.code, message: err.message }, () => process.exit(1)));
const listen = () => server.listen({ host: cfg.host, port: cfg.port, exclusive: true }, () => process.send({ t: 'listening', port: server.address().port }));
// A standby child is started ahead of need and listens when told to: a restart then costs the
// fault's gap, not a node start-up (0.4 to 0.6 s on a busy machine, and varying).
// An IPC message that arrives before its listener is attached is dropped, so a standby says when
// it can be told.
if (cfg.standby) {
  process.on('message', (m) => m && m.t === 'listen' && listen());
  process.send({ t: 'ready' });
} else listen();
`;
