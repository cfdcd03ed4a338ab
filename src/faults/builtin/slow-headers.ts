import { defineFault } from '../fault.js';

export default defineFault({
  id: "slow-headers",
  layer: "exchange",
  summary: "Dribbles the response head one byte every 25 ms (about 1.2 s in all).",
  explain: "Each byte resets a per-read timer but the head as a whole takes long: gateways with a per-read timeout (nginx proxy_read_timeout) let it through; ones with a header deadline answer 504.",
  steps: [
    { read: "body" },
    { dribble: { data: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Slow: yes\r\n\r\n", chunkBytes: 1, intervalMs: "${intervalMs}" } },
    { write: "ok\n" },
  ],
  params: { intervalMs: 25 },
});
