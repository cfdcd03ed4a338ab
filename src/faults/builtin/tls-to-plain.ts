import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-to-plain",
  layer: "exchange",
  summary: "Answers a plain HTTP request with a TLS alert record, as a TLS-only port does.",
  explain: "The gateway speaks http:// to an https:// backend: it gets binary bytes instead of a status line. Usually 502; nginx relays them as HTTP/0.9.",
  steps: [
    { read: "body" },
    { write: { hex: "15 03 03 00 02 02 28" } },
    "close",
  ],
  // A TLS record: alert (0x15), TLS 1.2 (03 03), length 2, fatal (02) handshake_failure (0x28).
  wire: { bytes: [{ hex: "15 0303 0002 02 28" }], end: "fin" },
});
