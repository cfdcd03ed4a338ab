import { defineFault } from '../fault.js';

export default defineFault({
  id: "connect-refused",
  layer: "listener",
  summary: "Nothing listens on the port: connect() is refused.",
  explain: "The backend is down: the gateway gets ECONNREFUSED at once (nginx: \"connect() failed (111: Connection refused)\") and answers 502, or tries the next server.",
  listener: "refuse",
});
