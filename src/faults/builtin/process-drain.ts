import { defineFault } from '../fault.js';

export default defineFault({
  id: 'process-drain',
  layer: 'process',
  summary: 'On the first request the backend drains: stops accepting, answers that request 500 ms later, exits; a new one starts 300 ms after.',
  explain:
    'A graceful shutdown (SIGTERM handled by closing the listener, a rolling deploy): the request in flight completes with a 200, but from the moment the listener closes until the new process listens, a gateway\'s connect() is refused (nginx: "connect() failed (111: Connection refused)", 502), unless it retries long enough. Draining well needs the gateway to stop sending first (a readiness check, a pool with another server).',
  process: 'drain',
  params: { atRequest: 1, inFlightMs: 500, restartMs: 300 },
});
