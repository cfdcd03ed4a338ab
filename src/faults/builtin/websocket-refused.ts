import { defineFault } from '../fault.js';

export default defineFault({
  id: "websocket-refused",
  layer: "exchange",
  summary: "Answers a WebSocket upgrade with 403 Forbidden.",
  explain: "An upgrade the backend will not take (origin check, auth): the gateway should relay the 403 as a normal response.",
  steps: [
    { read: "body" },
    { respond: { status: 403, headers: { Connection: "close" }, body: "no websockets here\n" } },
    "close",
  ],
  wire: {
    request: "GET /websocket-refused HTTP/1.1\r\nHost: test\r\n" +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    bytes: "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 19\r\n\r\nno websockets here\n",
    end: "fin",
  },
});
