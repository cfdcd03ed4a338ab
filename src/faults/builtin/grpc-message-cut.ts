import { defineFault } from '../fault.js';

export default defineFault({
  id: "grpc-message-cut",
  layer: "exchange",
  protocol: "h2",
  summary: "gRPC: a message whose length prefix says 100 bytes, 10 bytes of it, then trailers with grpc-status 0.",
  explain: "The stream ends cleanly and the status says OK, but the one message is cut: its 5-byte prefix declares 100 bytes and only 10 follow. HTTP/2 sees nothing wrong (the framing is the message's own), so a gateway passes it through; the gRPC client must notice and fail the call (grpc-go: Internal, a message cut short) instead of returning a half message as a success.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "grpc-reply": { messages: [{ data: { repeat: "m", times: 10 }, length: 100 }], status: 0 } },
  ],
  h2Wire: {
    request: { method: "POST", headers: [["content-type", "application/grpc"], ["te", "trailers"]], body: [{ hex: "00 00000000" }] },
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "WINDOW_UPDATE", stream: 0, payload: [{ hex: "00000005" }] },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "application/grpc"]] },
      { type: "DATA", payload: [{ hex: "00 00000064" }, { repeat: "m", times: 10 }] },
      { type: "HEADERS", flags: 0x5, headers: [["grpc-status", "0"]] },
    ],
    end: "open",
  },
});
