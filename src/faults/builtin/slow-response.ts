import { defineFault } from '../fault.js';

export default defineFault({
  id: "slow-response",
  layer: "exchange",
  summary: "Answers correctly, but only after a delay (default 3000 ms).",
  explain: "Slow first byte: below the gateway read timeout the client gets a slow 200; above it, the gateway gives up with 504.",
  steps: [
    { read: "body" },
    { delay: "${delayMs}" },
    { respond: { status: 200, body: "late\n" } },
  ],
  params: { delayMs: 3000 },
  wire: {
    query: "?delayMs=100",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlate\n",
    end: "fin",
    // Not before the delay; and well before the default 3000 ms, so the query param took effect.
    firstByteMs: { atLeast: 98, below: 1000 },
  },
});
