import { defineFault } from '../fault.js';

export default defineFault({
  id: "interim-100",
  layer: "exchange",
  summary: "A 100 Continue interim response, then the final 200.",
  explain: "Interim responses must be skipped or relayed, never taken as final. A gateway that takes 100 as final answers with it or breaks the exchange.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 100 Continue\r\n\r\n" },
    { respond: { status: 200, body: "after 100\n" } },
  ],
  wire: {
    bytes: [
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nafter 100\n",
    ],
    end: "fin",
  },
});
