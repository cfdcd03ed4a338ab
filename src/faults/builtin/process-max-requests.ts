import { defineFault } from '../fault.js';

export default defineFault({
  id: 'process-max-requests',
  layer: 'process',
  summary: 'Each backend process serves 3 requests, then stops listening and exits; a new one starts 300 ms later.',
  explain:
    'A max-requests recycle (gunicorn --max-requests, PHP-FPM pm.max_requests, a Node cluster restarting workers) done by a backend that owns its listening socket: the last request is answered in full, but until the new process listens a gateway\'s connect() is refused (nginx: "connect() failed (111: Connection refused) while connecting to upstream") and the client gets 502, unless the gateway retries for long enough (HAProxy retries, Caddy lb_try_duration).',
  process: 'max-requests',
  params: { requests: 3, restartMs: 300 },
});
