import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-unknown-ca",
  layer: "listener",
  listener: "tls",
  tls: { cert: "unknown-ca" },
  summary: "Presents a certificate for upstream.badgateway.test signed by a CA the gateway is not given.",
  explain: "An upstream with a certificate from a private CA the gateway does not trust (or a CA bundle missing an intermediate). Verification fails with \"unable to get local issuer certificate\" (error 20) and a 502; without verification the 200 is relayed.",
});
