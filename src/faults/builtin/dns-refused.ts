import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-refused",
  layer: "dns",
  summary: "The server refuses the query (REFUSED).",
  explain: "A resolver that will not answer for the zone: nginx reports \"could not be resolved (5: Operation refused)\", 502.",
  name: "refused",
  dns: { kind: "refused" },
});
