import { defineFault } from '../fault.js';

export default defineFault({
  id: "http2-to-plain",
  layer: "exchange",
  summary: "Answers an HTTP/1.1 request with HTTP/2 SETTINGS and GOAWAY frames.",
  explain: "The backend only speaks h2 (prior knowledge) and the gateway speaks HTTP/1.1 to it: binary frames instead of a status line.",
  steps: [
    { read: "body" },
    { write: { hex: "000000 04 00 00000000  000008 07 00 00000000 00000000 00000001" } },
    "close",
  ],
  // HTTP/2 frames: an empty SETTINGS (type 4) on stream 0, then GOAWAY (type 7, 8 bytes:
  // last stream 0, error PROTOCOL_ERROR 1).
  wire: {
    bytes: [{ hex: "000000 04 00 00000000" }, { hex: "000008 07 00 00000000 00000000 00000001" }],
    end: "fin",
  },
});
