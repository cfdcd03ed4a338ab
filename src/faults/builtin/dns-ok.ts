import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-ok",
  layer: "dns",
  summary: "A healthy A and AAAA answer pointing at the upstream.",
  explain: "The control for DNS routes: the name resolves to the chaos upstream and requests go through.",
  name: "ok",
  dns: { kind: "answer" },
});
