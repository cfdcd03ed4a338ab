import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-never-respond",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: reads the whole request and never answers.",
  explain: "A PHP script stuck in a loop or on a lock, with no request_terminate_timeout: the gateway waits for its read timeout (nginx fastcgi_read_timeout, 60 s by default) and answers 504.",
  steps: [
    {"fcgi-read": "request"},
    "hang",
  ],
  wire: { bytes: "", end: "timeout", timeoutMs: 300 },
});
