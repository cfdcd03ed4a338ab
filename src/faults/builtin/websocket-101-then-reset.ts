import { defineFault } from '../fault.js';

export default defineFault({
  id: "websocket-101-then-reset",
  layer: "exchange",
  summary: "Completes the WebSocket handshake, sends one text frame, then resets.",
  explain: "A backend that dies after the upgrade: the client has its 101 and gets a broken tunnel (abnormal closure 1006), not an HTTP error.",
  steps: [
    "websocket-accept",
    { write: { hex: "81 05 68 65 6c 6c 6f" } },
    { delay: 50 },
    "reset",
  ],
});
