import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-invalid-pseudo-header",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: response HEADERS with a pseudo-header a response cannot have (:path).",
  explain: "A response's only pseudo-header is :status; RFC 9113 section 8.3 makes a request pseudo-header in a response (here :path) malformed, which a client treats as a stream error of type PROTOCOL_ERROR (section 8.1.1): it resets the stream rather than pass the response on. The body follows as normal. The gateway logs an invalid upstream header and answers 502; one that answers 200 passed a malformed response through.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-headers": { headers: [[":status", "200"], [":path", "/"], ["content-type", "text/plain"]] } },
    { "h2-data": { data: "ok\n", endStream: true } },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], [":path", "/"], ["content-type", "text/plain"]] },
      { type: "DATA", flags: 0x1, payload: "ok\n" },
    ],
    end: "open",
  },
});
