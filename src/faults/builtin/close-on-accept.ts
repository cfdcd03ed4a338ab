import { defineFault } from '../fault.js';

export default defineFault({
  id: "close-on-accept",
  layer: "listener",
  summary: "Accepts, then closes the connection (FIN) at once.",
  explain: "A backend that hangs up without reading: the gateway sees end-of-stream before any response byte and answers 502.",
  listener: "close-on-accept",
});
