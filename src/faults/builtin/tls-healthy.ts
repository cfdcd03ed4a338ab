import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-healthy",
  layer: "listener",
  listener: "tls",
  tls: {},
  summary: "TLS with the run CA's certificate for upstream.badgateway.test, then a healthy 200.",
  explain: "The control for the TLS faults: a gateway that trusts the run's CA (tls-ca.pem in the run dir) and sends SNI upstream.badgateway.test verifies the certificate and relays the 200. A gateway that verifies without being given the CA fails here too: that is its configuration, not the upstream.",
});
