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
  wire: {
    request: "GET /websocket-101-then-reset HTTP/1.1\r\nHost: test\r\n" +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    bytes: [
      // The accept value RFC 6455 section 1.3 gives for the key above.
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      // One unmasked final text frame (0x81), length 5, "hello".
      { hex: "81 05 68656c6c6f" },
    ],
    end: "reset",
  },
});
