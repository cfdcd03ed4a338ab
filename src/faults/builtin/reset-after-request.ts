import { defineFault } from '../fault.js';

export default defineFault({
  id: "reset-after-request",
  layer: "exchange",
  summary: "Reads the request, then resets the connection (RST) without a response.",
  explain: "A process killed mid-request or a load balancer dropping state: the gateway sees ECONNRESET while reading the response header (nginx: \"recv() failed (104: Connection reset by peer)\").",
  steps: [
    { read: "body" },
    "reset",
  ],
  wire: { bytes: "", end: "reset" },
});
