import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-healthy",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: a normal 200 response with a small body.",
  explain: "The control for HTTP/2 upstreams: the server's SETTINGS (empty) and its ACK of the client's, the request read to END_STREAM, then HEADERS (:status 200, content-type, content-length) and one DATA frame with END_STREAM. The connection stays open for the next request. Every gateway that speaks HTTP/2 to its upstream should relay it as a 200.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-respond": { status: 200, headers: { "content-type": "text/plain" }, body: "ok\n" } },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["content-length", "3"]] },
      { type: "DATA", flags: 0x1, payload: "ok\n" },
    ],
    end: "open",
  },
});
