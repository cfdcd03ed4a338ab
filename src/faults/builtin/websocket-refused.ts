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
});
