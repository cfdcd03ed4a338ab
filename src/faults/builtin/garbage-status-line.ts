import { defineFault } from '../fault.js';

export default defineFault({
  id: "garbage-status-line",
  layer: "exchange",
  summary: "Sends a status line that starts like HTTP but is not valid.",
  explain: "The gateway cannot parse the status line. Gateways differ: some answer 502, some (nginx) treat a reply that is not HTTP/1.x as HTTP/0.9 and relay it.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 2OO OK\r\nContent-Length: 3\r\n\r\nbad" },
    "close",
  ],
  wire: { bytes: "HTTP/1.1 2OO OK\r\nContent-Length: 3\r\n\r\nbad", end: "fin" },
});
