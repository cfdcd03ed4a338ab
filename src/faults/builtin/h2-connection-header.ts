import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-connection-header",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: response HEADERS carrying a connection-specific field (connection: keep-alive).",
  explain: "HTTP/2 has no connection-specific header fields: RFC 9113 section 8.2.2 makes a message with Connection (or Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade) malformed, a stream error of type PROTOCOL_ERROR for the client. A backend that copies its HTTP/1 headers into HTTP/2 sends exactly this. The gateway logs an invalid upstream header and answers 502; some clients drop the field and pass the 200 on.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-headers": { status: 200, headers: [["content-type", "text/plain"], ["connection", "keep-alive"]] } },
    { "h2-data": { data: "ok\n", endStream: true } },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["connection", "keep-alive"]] },
      { type: "DATA", flags: 0x1, payload: "ok\n" },
    ],
    end: "open",
  },
});
