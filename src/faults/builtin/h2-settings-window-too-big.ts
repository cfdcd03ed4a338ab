import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-settings-window-too-big",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: the server's SETTINGS say INITIAL_WINDOW_SIZE=2^31, above the largest window (FLOW_CONTROL_ERROR).",
  explain: "A flow-control window holds at most 2^31-1 bytes; RFC 9113 section 6.5.2 makes a larger SETTINGS_INITIAL_WINDOW_SIZE a connection error of type FLOW_CONTROL_ERROR. A correct client answers GOAWAY FLOW_CONTROL_ERROR and closes; the server still answers the request normally, in case it does not. The gateway logs an upstream protocol (flow-control) error and answers 502.",
  steps: [
    { "h2-settings": { settings: { INITIAL_WINDOW_SIZE: 2147483648 } } },
    { "h2-read": "body" },
    { "h2-respond": { status: 200, headers: { "content-type": "text/plain" }, body: "ok\n" } },
  ],
  h2Wire: {
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS", payload: [{ hex: "0004 80000000" }] },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["content-length", "3"]] },
      { type: "DATA", flags: 0x1, payload: "ok\n" },
    ],
    end: "open",
  },
});
