import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-no-end-stream",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: a 200 and its body without END_STREAM, then nothing: the stream never ends.",
  explain: "HEADERS (no content-length) and a DATA frame with the whole body, but END_STREAM never comes and the connection stays open and idle. The client has the body but cannot know it is complete, so the gateway waits until its upstream read timeout, then answers 504 or cuts the response it already began (a truncated 200).",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "h2-headers": { status: 200, headers: { "content-type": "text/plain" } } },
    { "h2-data": { data: "ok\n" } },
    "hang",
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"]] },
      { type: "DATA", payload: "ok\n" },
    ],
    end: "open",
    timeoutMs: 300,
  },
});
