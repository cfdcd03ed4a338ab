import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-goaway-below-stream",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: GOAWAY (NO_ERROR) whose last-stream-id is below the request's stream, then close.",
  explain: "The server reads the request and sends GOAWAY with last-stream-id one stream below it (0 for the first request), so it says the request was never processed (RFC 9113 section 6.8: streams above last-stream-id can be retried on a new connection), then closes the connection 50 ms later without answering. A gateway that honours GOAWAY retries the request on a fresh connection (and gets the same); one that does not answers 502.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-goaway": { lastStreamId: "previous", error: "NO_ERROR" } },
    { delay: 50 },
    "close",
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "GOAWAY", payload: [{ hex: "00000000 00000000" }] },
    ],
    end: "fin",
  },
});
