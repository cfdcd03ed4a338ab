import { defineFault } from '../fault.js';

export default defineFault({
  id: "slow-body",
  layer: "exchange",
  summary: "Sends the head at once, then dribbles a 20-byte body one byte every 50 ms.",
  explain: "A slow stream: the client gets a 200 quickly and the body over about a second; a gateway with a total-time limit cuts it.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" },
    { dribble: { data: "abcdefghijklmnopqrs\n", chunkBytes: 1, intervalMs: "${intervalMs}" } },
  ],
  params: { intervalMs: 50 },
  // The bytes; the pace of the dribble is checked in test/timing/dribble.test.ts.
  wire: { query: "?intervalMs=5", bytes: "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nabcdefghijklmnopqrs\n", end: "fin" },
});
