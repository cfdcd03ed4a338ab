import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-self-signed",
  layer: "listener",
  listener: "tls",
  tls: { cert: "self-signed" },
  summary: "Presents a self-signed certificate for upstream.badgateway.test.",
  explain: "A backend still on its install-time self-signed certificate. Verification fails with \"self-signed certificate\" (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, error 18) and a 502; without verification the 200 is relayed.",
});
