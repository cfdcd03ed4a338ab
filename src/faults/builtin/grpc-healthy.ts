import { defineFault } from '../fault.js';

export default defineFault({
  id: "grpc-healthy",
  layer: "exchange",
  protocol: "h2",
  summary: "gRPC: a unary reply with one message and grpc-status 0.",
  explain: "The control for gRPC: HEADERS (:status 200, content-type application/grpc), one length-prefixed message in DATA, then trailers with grpc-status 0 and END_STREAM, as a gRPC server answers a unary call. A gateway proxying gRPC should relay the message and the trailers; the client sees status OK.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "grpc-reply": { messages: ["ok"], status: 0 } },
  ],
  h2Wire: {
    request: { method: "POST", headers: [["content-type", "application/grpc"], ["te", "trailers"]], body: [{ hex: "00 00000000" }] },
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "WINDOW_UPDATE", stream: 0, payload: [{ hex: "00000005" }] },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "application/grpc"]] },
      { type: "DATA", payload: [{ hex: "00 00000002" }, "ok"] },
      { type: "HEADERS", flags: 0x5, headers: [["grpc-status", "0"]] },
    ],
    end: "open",
  },
});
