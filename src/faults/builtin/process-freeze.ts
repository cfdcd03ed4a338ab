import { defineFault } from '../fault.js';

export default defineFault({
  id: 'process-freeze',
  layer: 'process',
  summary: 'The backend process is stopped (SIGSTOP) on the first request and continued (SIGCONT) 500 ms later.',
  explain:
    'A stop-the-world pause (a long GC, a process stopped by a debugger or a cgroup freezer, swapping): the kernel still accepts connections and buffers requests, but nobody reads or answers. A freeze shorter than the gateway\'s read timeout is only a slow 200; a longer one is that gateway\'s read timeout (nginx proxy_read_timeout: "upstream timed out (110: Connection timed out) while reading response header", 504).',
  process: 'freeze',
  params: { atRequest: 1, frozenMs: 500 },
});
