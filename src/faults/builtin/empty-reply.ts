import { defineFault } from '../fault.js';

export default defineFault({
  id: "empty-reply",
  layer: "exchange",
  summary: "Reads the request, then closes the connection without sending a byte.",
  explain: "The classic crashed-worker 502: the gateway sent the request and got end-of-stream before any response byte (nginx: \"upstream prematurely closed connection while reading response header\").",
  steps: [
    { read: "body" },
    "close",
  ],
  wire: { bytes: "", end: "fin" },
});
