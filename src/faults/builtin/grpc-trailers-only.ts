import { defineFault } from '../fault.js';

export default defineFault({
  id: "grpc-trailers-only",
  layer: "exchange",
  protocol: "h2",
  summary: "gRPC: a trailers-only reply: one HEADERS frame with :status 200, grpc-status 14 and END_STREAM.",
  explain: "gRPC lets a call that fails at once send its status in the response HEADERS themselves, with END_STREAM, and no DATA or trailers (\"Trailers-Only\" in PROTOCOL-HTTP2.md). To HTTP that is a 200 with an empty body and no trailers: a gateway must carry grpc-status in the response headers for the client to see the failure. Some proxies move it to trailers, some drop it (then the client sees a missing status, not UNAVAILABLE).",
  params: { status: 14 },
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "grpc-reply": { trailersOnly: true, status: "${status}", message: "no backend" } },
  ],
  h2Wire: {
    request: { method: "POST", headers: [["content-type", "application/grpc"], ["te", "trailers"]], body: [{ hex: "00 00000000" }] },
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "WINDOW_UPDATE", stream: 0, payload: [{ hex: "00000005" }] },
      { type: "HEADERS", flags: 0x5, headers: [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "14"], ["grpc-message", "no backend"]] },
    ],
    end: "open",
  },
});
