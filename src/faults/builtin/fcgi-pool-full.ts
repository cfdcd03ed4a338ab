import { defineFault } from '../fault.js';

export default defineFault({
  id: "fcgi-pool-full",
  layer: "listener",
  socket: "unix",
  protocol: "fastcgi",
  summary: "FastCGI: a unix socket whose accept queue is full, as PHP-FPM's when every child is busy: connect() fails at once with EAGAIN.",
  explain: "PHP-FPM with all pm.max_children busy stops accepting; once its socket's listen.backlog is full, the kernel refuses a new unix-socket connect() with EAGAIN instead of queueing it. nginx fails the connect at once: \"connect() to unix:... failed (11: Resource temporarily unavailable)\" and a 502 (fastcgi_next_upstream tries another server, if any; fastcgi_connect_timeout never applies). Apache's mod_proxy_fcgi connects in blocking mode and waits for room (its connectiontimeout / ProxyTimeout bound it).",
  listener: "accept-queue-full",
});
