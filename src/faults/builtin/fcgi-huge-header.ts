import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-huge-header",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: a healthy answer whose CGI head carries one 100 KiB header (headerBytes), in STDOUT records laid out as PHP-FPM 8.2 writes them.",
  explain: "A PHP script that sends a huge header (a session or debug dump in a cookie, a long Link or CSP header): the CGI head alone is larger than any gateway's FastCGI header buffer (nginx fastcgi_buffer_size, 4k or 8k; HAProxy tune.bufsize, 16k). nginx answers 502 with \"upstream sent too big header while reading response header from upstream\". HAProxy 2.6.12 (Debian bookworm) dies with SIGSEGV on it, as it does with real php-fpm (issue #11): a FastCGI record larger than its buffer crashes the fcgi mux. The records follow PHP-FPM 8.2's own for header('X-Huge: ' . str_repeat('a', 102400)) (measured): a small record with the first headers, the big header in records of 65528 and 36880 bytes, then the end of the head and the body in a record of their own.",
  params: {"headerBytes": 102400},
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stdout": "Status: 200 OK\r\nContent-Type: text/plain\r\n"},
    {"fcgi-stdout": ["X-Huge: ", {"repeat": "a", "times": "${headerBytes}"}]},
    {"fcgi-stdout": "\r\n\r\nok\n"},
    {"fcgi-stdout": ""},
    {"fcgi-end": {}},
  ],
  wire: {
    bytes: [{ hex: "01 06 0001 002a 06 00" }, "Status: 200 OK\r\nContent-Type: text/plain\r\n", { hex: "000000000000 01 06 0001 fff8 00 00" }, "X-Huge: ", { repeat: "a", times: 65520 }, { hex: "01 06 0001 9010 00 00" }, { repeat: "a", times: 36880 }, { hex: "01 06 0001 0007 01 00" }, "\r\n\r\nok\n", { hex: "00 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000" }],
    end: "fin",
  },
});
