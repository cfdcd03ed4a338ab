import { defineFault } from '../fault.js';

export default defineFault({
  id: "dns-nodata",
  layer: "dns",
  summary: "The name exists but has no A/AAAA record (NOERROR, empty answer).",
  explain: "A record of the wrong type only: resolution succeeds with nothing to connect to; gateways report it as host not found.",
  name: "nodata",
  dns: { kind: "nodata" },
});
