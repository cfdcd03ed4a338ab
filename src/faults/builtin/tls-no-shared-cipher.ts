import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-no-shared-cipher",
  layer: "listener",
  listener: "tls",
  tls: { maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-NULL-SHA:@SECLEVEL=0" },
  summary: "TLS 1.2 with one cipher no client offers by default (ECDHE-RSA-NULL-SHA: no encryption): no shared cipher.",
  explain: "A backend whose cipher list and the gateway's do not meet (a FIPS-only or a legacy-only list). The server ends the handshake with a handshake_failure alert (40; OpenSSL's \"no shared cipher\" on its side, \"sslv3 alert handshake failure\" on the gateway's) and the gateway answers 502.",
});
