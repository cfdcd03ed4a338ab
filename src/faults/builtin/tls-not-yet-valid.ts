import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-not-yet-valid",
  layer: "listener",
  listener: "tls",
  tls: { cert: "not-yet-valid" },
  summary: "Presents a certificate whose notBefore is tomorrow, signed by the run CA.",
  explain: "A certificate issued with a clock ahead of the gateway's (or installed before its start date). Verification fails with \"certificate is not yet valid\" (X509_V_ERR_CERT_NOT_YET_VALID, error 9) and a 502; without verification the gateway relays the 200.",
});
