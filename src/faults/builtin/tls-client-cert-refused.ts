import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-client-cert-refused",
  layer: "listener",
  listener: "tls",
  tls: { clientCert: "refused" },
  summary: "Requires a client certificate from another CA than the run's, so the gateway's certificate is refused (an unknown_ca alert).",
  explain: "A backend that rotated the CA it trusts for clients, or a gateway presenting the wrong certificate. The gateway presents the run's client certificate and the server refuses it with an unknown_ca alert (48) during the handshake (after it, in TLS 1.3, where the client may already have sent its request); the gateway answers 502.",
});
