import { defineFault } from '../fault.js';

export default defineFault({
  id: "never-respond",
  layer: "exchange",
  summary: "Reads the request and never answers.",
  explain: "A stuck backend: the gateway waits until its read timeout (nginx proxy_read_timeout) and answers 504, not 502.",
  steps: [
    { read: "body" },
    "hang",
  ],
  wire: { bytes: "", end: "timeout", timeoutMs: 300 },
});
