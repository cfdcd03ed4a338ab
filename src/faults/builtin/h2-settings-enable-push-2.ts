import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-settings-enable-push-2",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: the server's SETTINGS say ENABLE_PUSH=2, which a client must reject (PROTOCOL_ERROR).",
  explain: "SETTINGS_ENABLE_PUSH takes only 0 or 1 (and a server may send only 0): RFC 9113 section 6.5.2 makes any other value a connection error of type PROTOCOL_ERROR. A correct client answers with GOAWAY PROTOCOL_ERROR and closes; the server still answers the request normally, in case the client does not. The gateway logs an upstream protocol error and answers 502; one that answers 200 accepted an invalid SETTINGS frame.",
  steps: [
    { "h2-settings": { settings: { ENABLE_PUSH: 2 } } },
    { "h2-read": "body" },
    { "h2-respond": { status: 200, headers: { "content-type": "text/plain" }, body: "ok\n" } },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS", payload: [{ hex: "0002 00000002" }] },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["content-length", "3"]] },
      { type: "DATA", flags: 0x1, payload: "ok\n" },
    ],
    end: "open",
  },
});
