import { defineFault } from '../fault.js';

export default defineFault({
  id: "healthy",
  layer: "exchange",
  summary: "A normal 200 response with a small body.",
  explain: "The control: a well-formed response. Every gateway should relay it untouched.",
  steps: [
    { respond: { status: 200, headers: { "Content-Type": "text/plain" }, body: "ok\n" } },
  ],
  wire: {
    bytes: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
    end: "fin",
  },
});
