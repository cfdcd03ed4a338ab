import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-cut-no-close-notify",
  layer: "listener",
  listener: "tls",
  tls: { cut: "no-close-notify" },
  summary: "After the handshake: Content-Length: 1000, 100 bytes of body, then a TCP FIN without TLS close_notify.",
  explain: "A backend that crashed mid-body, or a middlebox that cut the stream. Without close_notify the end is a TLS truncation: OpenSSL 3 reports \"unexpected eof while reading\" (SSL_R_UNEXPECTED_EOF_WHILE_READING) where the other case reads a clean EOF, so a gateway may log it differently; the client gets a 200 with a truncated body either way.",
});
