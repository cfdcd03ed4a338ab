import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-trailer-without-body",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: content-length 100, 10 bytes of DATA, then trailers with END_STREAM: the promised body never came.",
  explain: "The stream ends properly (trailers with END_STREAM) but short: the DATA frames carry 10 of the 100 bytes content-length announced. RFC 9113 section 8.1.1 makes that malformed, a stream error of type PROTOCOL_ERROR. The gateway sees a clean end of stream and must still notice the missing 90 bytes: it logs a truncated upstream response and cuts the client's response (a truncated 200) or answers 502.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-headers": { status: 200, headers: { "content-type": "text/plain", "content-length": 100 } } },
    { "h2-data": { data: { repeat: "x", times: 10 } } },
    { "h2-headers": { headers: { "x-checksum": "none" }, endStream: true } },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["content-length", "100"]] },
      { type: "DATA", payload: [{ repeat: "x", times: 10 }] },
      { type: "HEADERS", flags: 0x5, headers: [["x-checksum", "none"]] },
    ],
    end: "open",
  },
});
