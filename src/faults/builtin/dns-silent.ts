import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-silent",
  layer: "dns",
  summary: "The DNS server never answers.",
  explain: "A resolver blackhole: the gateway waits for its resolver timeout (nginx resolver_timeout) and answers 502 (\"timed out\").",
  name: "silent",
  dns: { kind: "silent" },
});
