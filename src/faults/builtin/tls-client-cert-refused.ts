import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-client-cert-refused",
  layer: "listener",
  listener: "tls",
  tls: { clientCert: "refused" },
  summary: "Requires a client certificate from another CA than the run's, so the gateway's is refused: the connection ends after the handshake, before any answer.",
  explain: "A backend that rotated the CA it trusts for clients, or a gateway presenting the wrong certificate. The gateway presents the run's client certificate; the listener ends the connection with close_notify and a FIN before reading the request, and the gateway answers 502 (an upstream that closed before answering). An OpenSSL server (nginx ssl_verify_client on) would refuse it inside the handshake with an unknown_ca alert (48); Node's TLS checks a client certificate only once the handshake is done, so this fault cannot send that alert.",
});
