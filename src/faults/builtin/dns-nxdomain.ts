import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-nxdomain",
  layer: "dns",
  summary: "The name does not exist (NXDOMAIN).",
  explain: "A deleted or mistyped record: the gateway cannot resolve the upstream (nginx: \"could not be resolved (3: Host not found)\") and answers 502.",
  name: "nxdomain",
  dns: { kind: "nxdomain" },
});
