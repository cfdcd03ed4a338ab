import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-handshake-stall",
  layer: "listener",
  listener: "tls",
  tls: { handshake: "stall" },
  summary: "Accepts and reads the ClientHello, then never answers.",
  explain: "A backend whose TLS terminator hangs (a blocked accept thread, a middlebox that swallows the handshake). The connect succeeded, so the gateway's connect timeout may not cover it: nginx's proxy_connect_timeout covers the handshake too, HAProxy's timeout connect does not (timeout server does), and the gateway answers 504 or 502 when its timer fires.",
});
