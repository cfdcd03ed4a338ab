import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-expired",
  layer: "listener",
  listener: "tls",
  tls: { cert: "expired" },
  summary: "Presents a certificate that expired yesterday (notAfter in the past), signed by the run CA.",
  explain: "An upstream whose certificate was not renewed. A gateway that verifies fails the handshake with OpenSSL's \"certificate has expired\" (X509_V_ERR_CERT_HAS_EXPIRED, error 10) and answers 502; one that does not verify (nginx's default: proxy_ssl_verify off) relays the 200, which is the security finding.",
});
