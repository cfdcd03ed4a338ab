import { defineFault } from '../fault.js';

export default defineFault({
  id: 'process-kill-after-head',
  layer: 'process',
  summary: 'The backend process is killed (SIGKILL) right after writing a 200 response head.',
  explain:
    'An OOM kill or a crash while answering: the gateway has the status line and headers but the body never comes. The kernel closes the dead process\'s socket with a FIN, not an RST (it had read the whole request), so the gateway reads an early EOF (nginx: "upstream prematurely closed connection while reading upstream"). nginx, Apache and HAProxy have relayed the head already and cut the body: a 200 with a truncated body, not a 502. A new process starts restartMs later on the same port.',
  process: 'kill-mid-response',
  params: { atRequest: 1, bodyBytes: 4096, sentBytes: 0, restartMs: 100 },
});
