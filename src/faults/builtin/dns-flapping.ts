import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-flapping",
  layer: "dns",
  summary: "Resolves for 2 s, then NXDOMAIN for 3 s, and so on (TTL 1 s).",
  explain: "A record that comes and goes (a broken DNS failover): shows whether the gateway re-resolves and what it does when the answer disappears under it.",
  name: "flapping",
  // NXDOMAIN outlasts what a resolver caches a 1 s answer for (nginx: up to 2 s, its clock counts
  // whole seconds) by more than a request spacing of 500 ms, so some request meets it whatever the
  // cache does; with 2 s of NXDOMAIN, nginx's cache covered the whole window now and then.
  dns: { kind: "flap", phases: [{ forMs: 2000, answer: { kind: "answer", ttl: 1 } }, { forMs: 3000, answer: { kind: "nxdomain" } }] },
});
