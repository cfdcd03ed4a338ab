import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-only-1-0",
  layer: "listener",
  listener: "tls",
  tls: { minVersion: "TLSv1", maxVersion: "TLSv1", ciphers: "DEFAULT:@SECLEVEL=0" },
  summary: "Speaks TLS 1.0 only (OpenSSL security level 0, the only level at which OpenSSL 3 allows it).",
  explain: "A legacy backend (an old appliance, Java 6, Windows Server 2008) that never learned TLS 1.2. OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level 1, and gateways' defaults no longer offer them (nginx proxy_ssl_protocols default TLSv1.2 TLSv1.3 since 1.23.4), so the handshake fails with a protocol_version alert or \"unsupported protocol\" and a 502, unless the gateway is told to allow TLSv1 and @SECLEVEL=0 ciphers.",
});
