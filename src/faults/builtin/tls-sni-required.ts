import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-sni-required",
  layer: "listener",
  listener: "tls",
  tls: { sniRequired: true },
  summary: "Answers a ClientHello without SNI upstream.badgateway.test (none, or another name) with a fatal unrecognized_name alert (112).",
  explain: "A TLS backend behind a shared front (a CDN, a Kubernetes ingress, a virtual-hosting load balancer) that picks the certificate by SNI and refuses a client that sends none. nginx sends no SNI upstream unless proxy_ssl_server_name on, and then the name of proxy_pass's host unless proxy_ssl_name says otherwise; the handshake fails with an alert (\"tlsv1 unrecognized name\") and the gateway answers 502.",
});
