import { defineFault } from '../fault.js';

export default defineFault({
  id: "interim-103",
  layer: "exchange",
  summary: "A 103 Early Hints interim response with a Link header, then the final 200.",
  explain: "103 is newer than 100: older gateways may reject it or treat it as final.",
  steps: [
    { read: "body" },
    { write: "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n" },
    { respond: { status: 200, body: "after 103\n" } },
  ],
  wire: {
    bytes: [
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nafter 103\n",
    ],
    end: "fin",
  },
});
