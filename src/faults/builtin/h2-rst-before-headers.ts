import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-rst-before-headers",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: RST_STREAM (REFUSED_STREAM by default) on the request's stream before any HEADERS.",
  explain: "The server reads the request, then resets its stream before a response starts. With REFUSED_STREAM (7, the default) RFC 9113 section 8.7 says the request was not processed and may be retried; with PROTOCOL_ERROR, INTERNAL_ERROR or CANCEL (param error: a code or its name, e.g. ?error=CANCEL) it may have been. The connection stays open. A gateway logs an upstream reset (nginx: \"upstream rejected request with error N\") and answers 502, or retries the refused stream on another connection.",
  params: { error: 7 },
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-rst-stream": "${error}" },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "RST_STREAM", payload: [{ hex: "00000007" }] },
    ],
    end: "open",
  },
});
