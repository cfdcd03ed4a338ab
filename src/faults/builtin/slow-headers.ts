import { defineFault } from '../fault.js';

export default defineFault({
  id: "slow-headers",
  layer: "exchange",
  summary: "Dribbles the response head one byte every 25 ms (about 1.2 s in all).",
  explain: "Each byte arrives well within any per-read timeout, but the head as a whole takes about 1.2 s. nginx arms proxy_read_timeout once for the whole response header (it is not re-armed per read there), so with a 1 s timeout the client gets 504; gateways with a true idle timeout let it through.",
  steps: [
    { read: "body" },
    { dribble: { data: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Slow: yes\r\n\r\n", chunkBytes: 1, intervalMs: "${intervalMs}" } },
    { write: "ok\n" },
  ],
  params: { intervalMs: 25 },
  // The bytes; the pace of the dribble is checked in test/timing/dribble.test.ts.
  wire: { query: "?intervalMs=5", bytes: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Slow: yes\r\n\r\nok\n", end: "fin" },
});
