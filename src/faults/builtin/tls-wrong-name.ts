import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-wrong-name",
  layer: "listener",
  listener: "tls",
  tls: { cert: "wrong-name" },
  summary: "Presents a valid certificate from the run CA for wrong.badgateway.test, not upstream.badgateway.test.",
  explain: "The upstream moved behind another name, or the gateway verifies against the address instead of the name. A gateway that checks the name (nginx proxy_ssl_verify on with proxy_ssl_name, HAProxy verify required with verifyhost or sni) fails with a hostname mismatch (X509_V_ERR_HOSTNAME_MISMATCH, error 62) and answers 502; one that checks only the chain, or nothing, relays the 200.",
});
