import { defineFault } from '../fault.js';

export default defineFault({
  id: "grpc-unavailable",
  layer: "exchange",
  protocol: "h2",
  summary: "gRPC: no message, trailers with grpc-status 14 (UNAVAILABLE) and a grpc-message.",
  explain: "The call fails as a backend that is shutting down or overloaded fails it: HEADERS, no message, then trailers grpc-status 14 with grpc-message \"backend shutting down\". The HTTP status is 200, as it always is for gRPC: a gateway must relay the trailers for the client to see the failure, and one that judges by :status alone counts it a success. UNAVAILABLE is the status gRPC clients retry.",
  params: { message: "backend shutting down" },
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "grpc-reply": { status: 14, message: "${message}" } },
  ],
  h2Wire: {
    request: { method: "POST", headers: [["content-type", "application/grpc"], ["te", "trailers"]], body: [{ hex: "00 00000000" }] },
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "WINDOW_UPDATE", stream: 0, payload: [{ hex: "00000005" }] },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "application/grpc"]] },
      { type: "HEADERS", flags: 0x5, headers: [["grpc-status", "14"], ["grpc-message", "backend shutting down"]] },
    ],
    end: "open",
  },
});
