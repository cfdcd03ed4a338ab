import { defineFault } from '../fault.js';

export default defineFault({
  id: "accept-queue-full",
  layer: "listener",
  summary: "A listener whose accept queue is full: new SYNs are dropped and connect() times out.",
  explain: "An overloaded backend that stopped accepting: the kernel drops SYNs once the backlog is full, so the gateway waits for its connect timeout (nginx proxy_connect_timeout) and answers 504. No root needed.",
  listener: "accept-queue-full",
});
