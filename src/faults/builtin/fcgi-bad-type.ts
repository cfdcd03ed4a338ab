import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-bad-type",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a record of type 99, which FastCGI does not have, then FIN.",
  explain: "A record type no FastCGI client knows (the types end at 11, FCGI_UNKNOWN_TYPE). nginx answers 502 with \"upstream sent invalid FastCGI record type: 99\".",
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-record": {"type": 99, "content": "unknown!"}},
    "close",
  ],
  wire: {
    bytes: [{"hex": "01 63 0001 0008 00 00"}, "unknown!"],
    end: "fin",
  },
});
