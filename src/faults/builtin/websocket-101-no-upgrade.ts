import { defineFault } from '../fault.js';

export default defineFault({
  id: "websocket-101-no-upgrade",
  layer: "exchange",
  summary: "Answers 101 Switching Protocols without Upgrade or Connection headers.",
  explain: "A broken handshake: the gateway gets 101 but no protocol to switch to. Gateways differ on relaying it or answering 502.",
  steps: [
    { write: "HTTP/1.1 101 Switching Protocols\r\n\r\n" },
    { delay: 200 },
    "close",
  ],
  wire: {
    request: "GET /websocket-101-no-upgrade HTTP/1.1\r\nHost: test\r\n" +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    bytes: "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    end: "fin",
    durationMs: { atLeast: 198 },
  },
});
