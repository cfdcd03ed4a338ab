import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-servfail",
  layer: "dns",
  summary: "The resolver fails (SERVFAIL).",
  explain: "A broken authoritative server: resolution fails with a server error (nginx: \"could not be resolved (2: Server failure)\"), 502.",
  name: "servfail",
  dns: { kind: "servfail" },
});
