import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-stderr-flood",
  layer: "exchange",
  protocol: "fastcgi",
  summary: "FastCGI: 1 MiB of STDERR (stderrBytes) before a normal answer.",
  explain: "An application that writes a flood of warnings to STDERR (PHP notices with display_errors off and log_errors to stderr) before its output. Each STDERR record becomes a gateway log line (nginx: \"FastCGI sent in stderr\" while reading response header), so the cost is in the gateway's error log and the time it takes; the response itself is healthy. STDERR comes in records of 65528 bytes, as PHP-FPM splits its writes.",
  params: {"stderrBytes": 1048576},
  steps: [
    {"fcgi-read": "request"},
    {"fcgi-stderr": {"repeat": "x", "times": "${stderrBytes}"}},
    {"fcgi-respond": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok\n"}},
  ],
  wire: {
    bytes: [{ repeat: "\x01\x07\x00\x01\xff\xf8\x00\x00" + "x".repeat(65528), times: 16 }, { hex: "01 07 0001 0080 00 00" }, { repeat: "x", times: 128 }, { hex: "01 06 0001 002f 01 00" }, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", { hex: "00 01 06 0001 0000 00 00 01 03 0001 0008 00 00  00000000 00 000000" }],
    end: "fin",
  },
});
