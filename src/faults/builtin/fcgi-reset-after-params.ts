import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-reset-after-params",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: reads BEGIN_REQUEST and PARAMS, then resets the connection (RST); on a unix socket, closes it.",
  explain: "A PHP-FPM worker killed right after it took the request (SIGKILL, the OOM killer): the gateway sees its FastCGI connection reset before any record (nginx: \"recv() failed (104: Connection reset by peer) while reading response header from upstream\", 502). A unix socket has no RST, so there the connection just closes.",
  steps: [
    "reset",
  ],
  wire: { bytes: "", end: "reset" },
});
