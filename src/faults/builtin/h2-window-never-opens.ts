import { defineFault } from '../fault.js';

export default defineFault({
  id: "h2-window-never-opens",
  layer: "exchange",
  protocol: "h2",
  summary: "HTTP/2: SETTINGS_INITIAL_WINDOW_SIZE 0 and never a WINDOW_UPDATE: a request body cannot be sent.",
  explain: "The server's SETTINGS set every stream's flow-control window to 0 and it never sends WINDOW_UPDATE, so a client may not send one byte of DATA on the stream (RFC 9113 section 6.9); the server waits for the body that cannot come. A request without a body gets a normal 200. With a body the gateway's upload stalls until its send or read timeout (504, or 502), though the connection and the server look alive. A client that sent its body before it read these SETTINGS has sent at most the connection's initial 65,535 bytes; a larger body stalls there.",
  steps: [
    { "h2-settings": { settings: { INITIAL_WINDOW_SIZE: 0 }, windowUpdates: false } },
    { "h2-read": "body" },
    { "h2-respond": { status: 200, headers: { "content-type": "text/plain" }, body: "ok\n" } },
  ],
  h2Wire: {
    // A raw client that does not wait for window sends its body anyway: what matters here is the SETTINGS and that no WINDOW_UPDATE follows the DATA.
    request: { method: "POST", body: "body" },
    frames: [
      { type: "SETTINGS" },
      { type: "SETTINGS", payload: [{ hex: "0004 00000000" }] },
      { type: "SETTINGS", flags: 0x1 },
      { type: "HEADERS", flags: 0x4, headers: [[":status", "200"], ["content-type", "text/plain"], ["content-length", "3"]] },
      { type: "DATA", flags: 0x1, payload: "ok\n" },
    ],
    end: "open",
  },
});
