import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-close-without-goaway",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: the connection closes (FIN) with the request's stream open and no GOAWAY.",
  explain: "The server reads the request and closes the TCP connection without a GOAWAY or any response, as a backend that crashed or was killed does. The gateway cannot know whether the request was processed (no last-stream-id was given); it logs a premature close of the upstream and answers 502 (or retries, for an idempotent request, where it is set to).",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    "close",
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
    ],
    end: "fin",
  },
});
