import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-client-cert-required",
  layer: "listener",
  listener: "tls",
  tls: { clientCert: "required" },
  summary: "Requires a client certificate signed by the run CA (mTLS); a handshake without one fails.",
  explain: "A backend that authenticates its clients (a service mesh, an internal API). The run gives the gateway its client certificate (tls-client.pem, tls-client-key.pem): a gateway configured to present it (nginx proxy_ssl_certificate and proxy_ssl_certificate_key, HAProxy crt, Caddy tls_client_auth, Apache SSLProxyMachineCertificateFile) gets the 200; one that presents none gets a certificate_required alert (116, TLS 1.3) or handshake_failure (TLS 1.2) and answers 502.",
});
