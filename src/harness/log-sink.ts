/**
 * A syslog socket the harness owns: UDP on loopback, opened before the gateway's
 * config is rendered, so a gateway that logs over syslog (HAProxy) sends its
 * lines straight to us in both runtimes (the container shares the host's
 * network). Every datagram becomes one line appended to a file under the
 * gateway's prefix, with any syslog header stripped, and is written before the
 * next one is read, so the file is complete once the gateway's lines are in.
 * Closing it closes the socket and the file.
 */
import { createSocket } from 'node:dgram';
import { closeSync, openSync, writeSync } from 'node:fs';

export interface StartedLogSink {
  readonly host: string;
  readonly port: number;
  /** Datagrams received so far. */
  readonly received: () => number;
  close(): Promise<void>;
}

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
/** RFC 5424: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG. */
const RFC5424 = /^1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?/;
/** RFC 3164: TIMESTAMP HOSTNAME TAG[PID]: MSG. */
const RFC3164 = new RegExp(`^(?:${MONTHS}) [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\S+ [^:\\s\\[]+(?:\\[\\d+\\])?: ?`);

/** The message of one syslog datagram: without its <PRI> and RFC 5424/3164 header, without the trailing newline. */
export function syslogMessage(datagram: string): string {
  let m = datagram.replace(/\r?\n$/, '');
  const pri = /^<\d{1,3}>/.exec(m);
  if (!pri) return m; // HAProxy's `format raw`: the message as is.
  m = m.slice(pri[0].length);
  return m.replace(RFC5424, '').replace(RFC3164, '');
}

export async function startLogSink(opts: { host: string; file: string }): Promise<StartedLogSink> {
  const fd = openSync(opts.file, 'a');
  // A large receive buffer: a burst of lines waits in the kernel, not dropped, while we write.
  const socket = createSocket({ type: opts.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
  let count = 0;
  let fdOpen = true;
  socket.on('message', (msg) => {
    count++;
    if (!fdOpen) return;
    writeSync(fd, `${syslogMessage(msg.toString('latin1'))}\n`, null, 'latin1');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    closeSync(fd);
    throw err;
  }
  socket.on('error', () => {});
  const port = socket.address().port;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      socket.close(() => {
        fdOpen = false;
        closeSync(fd);
        resolve();
      });
    }));
  return { host: opts.host, port, received: () => count, close };
}
