import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-cut-close-notify",
  layer: "listener",
  listener: "tls",
  tls: { cut: "close-notify" },
  summary: "After the handshake: Content-Length: 1000, 100 bytes of body, then TLS close_notify and a FIN.",
  explain: "A backend that ends the TLS session cleanly but too early. The close is orderly at the TLS layer, so only the short body tells the gateway the response was cut: it logs a premature close and the client gets a 200 with a truncated body (the status line was already sent).",
});
