import { defineFault } from '../fault.js';

export default defineFault({
  id: "header-too-big",
  layer: "exchange",
  summary: "One response header of 64 KiB.",
  explain: "Bigger than the gateway's header buffer (nginx proxy_buffer_size, 4k or 8k by default): the gateway answers 502 with \"upstream sent too big header\".",
  steps: [
    { read: "body" },
    { write: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: ", { repeat: "a", times: 65536 }, "\r\n\r\nok"] },
    "close",
  ],
  wire: {
    bytes: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: ", { repeat: "a", times: 65536 }, "\r\n\r\nok"],
    end: "fin",
    headLongerThan: 64 * 1024,
  },
});
