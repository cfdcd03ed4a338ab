import { defineFault } from '../fault.js';

export default defineFault({
  id: "grpc-no-status",
  layer: "exchange",
  protocol: "h2",
  summary: "gRPC: a reply with its message and trailers, but no grpc-status.",
  explain: "The reply ends properly (trailers with END_STREAM) but the trailers lack grpc-status, which every gRPC response must end with (gRPC's PROTOCOL-HTTP2.md). A gRPC client reports it as an error (grpc-go: Internal, \"server closed the stream without sending trailers\" or a missing status), not as OK. A gateway that proxies gRPC passes the trailers through as they are, or, if it checks, answers with grpc-status 13 or 14 of its own.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "grpc-reply": { messages: ["ok"], status: "none", trailers: { "x-upstream": "badgateway" } } },
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
      { type: "HEADERS", flags: 0x5, headers: [["x-upstream", "badgateway"]] },
    ],
    end: "open",
  },
});
