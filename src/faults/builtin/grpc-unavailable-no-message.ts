import { defineFault } from '../fault.js';

export default defineFault({
  id: "grpc-unavailable-no-message",
  layer: "exchange",
  protocol: "h2",
  summary: "gRPC: no message, trailers with grpc-status 14 (UNAVAILABLE) and no grpc-message.",
  explain: "As grpc-unavailable, without grpc-message: the client gets the status alone, and any message it shows is one the gateway or the client library made up. A gateway that adds a message of its own, or turns the status into another, shows here.",
  steps: [
    { "h2-settings": {} },
    { "h2-read": "body" },
    { "grpc-reply": { status: 14 } },
  ],
  h2Wire: {
    request: { method: "POST", headers: [["content-type", "application/grpc"], ["te", "trailers"]], body: [{ hex: "00 00000000" }] },
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS" },
      { type: "SETTINGS", flags: 0x1 },
      { type: "WINDOW_UPDATE", stream: 0, payload: [{ hex: "00000005" }] },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "application/grpc"]] },
      { type: "HEADERS", flags: 0x5, headers: [["grpc-status", "14"]] },
    ],
    end: "open",
  },
});
