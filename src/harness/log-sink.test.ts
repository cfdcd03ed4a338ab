import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { startLogSink, syslogMessage } from './log-sink.js';

const line = 'badgateway 127.0.0.1:57076 [24/Nov/2026:18:34:11.436] badgateway be_x/s 0/0/0/-1/1 502 209 SH-- 1/1/0/0/0 0/0 "GET /s/x/?bgp=1 HTTP/1.1"';

test('syslog headers are stripped: raw, rfc5424, rfc3164 and short, as HAProxy 2.6 sends them', () => {
  expect(syslogMessage(`${line}\n`)).toBe(line);
  expect(syslogMessage(`<134>1 2026-11-24T18:34:11.436297+00:00 - haproxy 25830 - - ${line}\n`)).toBe(line);
  expect(syslogMessage(`<134>1 2026-11-24T18:34:11Z host app 1 ID47 [exampleSDID@32473 iut="3" eventSource="A\\]pp"] ${line}`)).toBe(line);
  expect(syslogMessage(`<134>Nov 24 18:34:12 localhost haproxy[25837]: ${line}\n`)).toBe(line);
  expect(syslogMessage(`<134>Nov  4 08:04:12 localhost haproxy: ${line}`)).toBe(line);
  expect(syslogMessage(`<6>${line}\n`)).toBe(line);
});

test('every datagram becomes one line in the file, in order, none lost in a burst; close releases the port', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'badgateway-sink-'));
  try {
    const file = join(dir, 'haproxy.log');
    const sink = await startLogSink({ host: '127.0.0.1', file });
    const client = createSocket('udp4');
    const n = 2000;
    for (let i = 0; i < n; i++) client.send(`${line.replace('bgp=1', `bgp=${i}`)}\n`, sink.port, '127.0.0.1');
    const deadline = Date.now() + 5000;
    while (sink.received() < n && Date.now() < deadline) await sleep(10);
    client.close();
    expect(sink.received()).toBe(n);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(n);
    expect(lines[n - 1]).toContain(`bgp=${n - 1} `);
    await sink.close();
    await sink.close();
    // The port is free again: nothing outlives close().
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(sink.port, '127.0.0.1', () => resolve());
    });
    again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
