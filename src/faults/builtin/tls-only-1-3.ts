import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-only-1-3",
  layer: "listener",
  listener: "tls",
  tls: { minVersion: "TLSv1.3" },
  summary: "Speaks TLS 1.3 only.",
  explain: "A hardened backend that dropped TLS 1.2. A gateway whose TLS library or configuration stops at TLS 1.2 (an old OpenSSL, proxy_ssl_protocols TLSv1.2) fails the handshake with a protocol_version alert and answers 502; the others negotiate TLS 1.3 and relay the 200.",
});
