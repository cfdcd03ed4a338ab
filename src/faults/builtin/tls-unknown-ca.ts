import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-unknown-ca",
  layer: "listener",
  listener: "tls",
  tls: { cert: "unknown-ca" },
  summary: "Presents a certificate for upstream.badgateway.test signed by a CA the gateway is not given.",
  explain: "An upstream with a certificate from a private CA the gateway does not trust (or a CA bundle missing an intermediate). The server sends no chain, so verification fails with \"unable to verify the first certificate\" (OpenSSL error 21, Node's UNABLE_TO_VERIFY_LEAF_SIGNATURE) and a 502; without verification the 200 is relayed.",
});
