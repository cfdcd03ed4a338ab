import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-large-response",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a healthy 200 with a 1 MiB body (bodyBytes), far beyond the gateway's FastCGI buffers.",
  explain: "Bigger than what a gateway holds in memory for one FastCGI response (nginx fastcgi_buffers, 8 4k or 8 8k by default, plus fastcgi_buffer_size): nginx spools the rest to a temporary file (\"an upstream response is buffered to a temporary file\" at warn level) or, with fastcgi_max_temp_file_size 0, passes it on at the client's pace. The answer is valid; what it tests is buffering, temp-file space and timeouts on a slow client.",
  params: {"bodyBytes": 1048576},
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-respond": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": {"repeat": "x", "times": "${bodyBytes}"}}},
  ],
  wire: {
    bytes: [{ hex: "01 06 0001 fff8 00 00" }, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n", { repeat: "x", times: 65484 }, { repeat: "\x01\x06\x00\x01\xff\xf8\x00\x00" + "x".repeat(65528), times: 15 }, { hex: "01 06 0001 00ac 04 00" }, { repeat: "x", times: 172 }, { hex: "00000000 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000" }],
    end: "fin",
  },
});
