import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-flapping",
  layer: "dns",
  summary: "Resolves for 2 s, then NXDOMAIN for 2 s, and so on (TTL 1 s).",
  explain: "A record that comes and goes (a broken DNS failover): shows whether the gateway re-resolves and what it does when the answer disappears under it.",
  name: "flapping",
  dns: { kind: "flap", phases: [{ forMs: 2000, answer: { kind: "answer", ttl: 1 } }, { forMs: 2000, answer: { kind: "nxdomain" } }] },
});
