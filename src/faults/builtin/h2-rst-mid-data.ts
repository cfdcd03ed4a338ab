import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-rst-mid-data",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: a 200 with content-length 1000, 100 bytes of DATA, then RST_STREAM (INTERNAL_ERROR by default).",
  explain: "The response has begun (HEADERS and part of the body are out) when the server resets the stream with the error code of param error (2, INTERNAL_ERROR; a code or its name, e.g. ?error=PROTOCOL_ERROR or ?error=CANCEL). The connection stays open. The status has reached the gateway, so what the client sees is a truncated 200, or a 502 from a gateway that buffers the response; the gateway logs an upstream reset mid-body.",
  params: { error: 2 },
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-headers": { status: 200, headers: { "content-type": "text/plain", "content-length": 1000 } } },
    { "h2-data": { data: { repeat: "x", times: 100 } } },
    { delay: 20 },
    { "h2-rst-stream": "${error}" },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["content-length", "1000"]] },
      { type: "DATA", payload: [{ repeat: "x", times: 100 }] },
      { type: "RST_STREAM", payload: [{ hex: "00000002" }] },
    ],
    end: "open",
  },
});
