import { defineFault } from '../fault.js';

export default defineFault({
  id: 'process-crash-restart',
  layer: 'process',
  summary: 'The backend process crashes (SIGKILL) on the first request, and a new one starts 500 ms later.',
  explain:
    'A crash and a supervisor restart (systemd Restart=, a container restart policy): the request that was being read when the process died gets nothing back, the kernel closing its socket (the gateway logs an early close, 502), and every connection until the new process listens is refused (nginx: "connect() failed (111: Connection refused)", 502). The window is downMs plus the new process\'s start-up time; then answers are healthy again.',
  process: 'crash-restart',
  params: { atRequest: 1, downMs: 500 },
});
