import { defineFault } from '../fault.js';

export default defineFault({
  id: 'process-kill-mid-body',
  layer: 'process',
  summary: 'The backend process is killed (SIGKILL) after writing the head and 1024 of 4096 body bytes.',
  explain:
    'A worker killed while streaming a response (OOM killer, a deploy that does not drain): the client gets a 200 whose body stops short of its Content-Length, because the head is gone already; the kernel closes the dead process\'s socket with a FIN, so gateways log an early close (nginx: "upstream prematurely closed connection while reading upstream"), not a reset. A new process starts restartMs later on the same port.',
  process: 'kill-mid-response',
  params: { atRequest: 1, bodyBytes: 4096, sentBytes: 1024, restartMs: 100 },
});
