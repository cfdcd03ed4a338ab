import { defineFault } from '../fault.js';

export default defineFault({
  id: "reset-on-accept",
  layer: "listener",
  summary: "Accepts, then resets the connection at once.",
  explain: "A backend that accepts then aborts (a full worker pool, a firewall): the gateway sees a reset before or while sending the request and answers 502.",
  listener: "reset-on-accept",
});
