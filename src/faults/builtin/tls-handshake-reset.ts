import { defineFault } from '../fault.js';

export default defineFault({
  id: "tls-handshake-reset",
  layer: "listener",
  listener: "tls",
  tls: { handshake: "reset" },
  summary: "Accepts, reads the ClientHello, then sends an RST.",
  explain: "A backend or a firewall that kills the connection on seeing the ClientHello (an IPS rule, a port that speaks another protocol and crashes on TLS). The gateway's handshake fails with a reset (\"Connection reset by peer\" while SSL handshaking) and it answers 502.",
});
