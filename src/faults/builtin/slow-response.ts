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
});
