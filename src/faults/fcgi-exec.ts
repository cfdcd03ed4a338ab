/**
 * Runs the FastCGI steps (src/faults/fcgi-steps.ts) on a FastCGI connection: records framed
 * with the request's id as they are written, so a script compiles once for every request.
 */
import { encodeEndRequest, encodeHeader, FCGI_VERSION_1, padFor, RECORD_SPLIT, TYPE } from '../fastcgi/records.js';
import type { Conn } from './conn.js';
import { drain, writeBytes, type StepResult } from './write.js';
import { FcgiConn } from './fcgi-conn.js';
import type { FcgiStep } from './fcgi-steps.js';
import { sliceBytes, type Bytes } from './bytes.js';

/** Records of a stream up to this size are built in one buffer and written at once (a healthy answer costs no promise). */
const BUILD_UP_TO = 256 * 1024;
const EMPTY = Buffer.alloc(0);

function fcgiConn(conn: Conn): FcgiConn {
  // The loader refuses FastCGI steps in an HTTP fault, and the HTTP listeners run HTTP faults only.
  if (!(conn instanceof FcgiConn)) throw new Error('a FastCGI step ran on a connection that does not speak FastCGI');
  return conn;
}

function header(type: number, requestId: number, contentLength: number): Buffer {
  return encodeHeader({ version: FCGI_VERSION_1, type, requestId, contentLength, paddingLength: padFor(contentLength) });
}

/** `bytes` as records of `type`, RECORD_SPLIT bytes of content each, padded to 8; none at all: one empty record. */
function streamRecords(type: number, requestId: number, bytes: Bytes, length: number, from: number, upTo: number): Buffer[] {
  const out: Buffer[] = [];
  if (length === 0) return [header(type, requestId, 0)];
  for (let off = from; off < upTo; off += RECORD_SPLIT) {
    const n = Math.min(RECORD_SPLIT, length - off);
    out.push(header(type, requestId, n), sliceBytes(bytes, off, n), Buffer.alloc(padFor(n)));
  }
  return out;
}

function writeStream(conn: FcgiConn, type: number, bytes: Bytes, length: number, tail: Buffer = EMPTY): Promise<void> | undefined {
  const id = conn.request?.requestId ?? 0;
  if (length <= BUILD_UP_TO) return writeBytes(conn, [Buffer.concat([...streamRecords(type, id, bytes, length, 0, length), tail])]);
  return (async () => {
    // A record at a time, each after the socket took the one before: a flood of a gigabyte holds one record.
    for (let off = 0; off < length; off += RECORD_SPLIT) {
      if (conn.closed || conn.socket.writableEnded) return;
      if (!conn.write(Buffer.concat(streamRecords(type, id, bytes, length, off, Math.min(length, off + RECORD_SPLIT))))) await drain(conn);
    }
    if (tail.length > 0 && !conn.write(tail)) await drain(conn);
  })();
}

export function runFcgiStep(c: Conn, step: FcgiStep): StepResult | Promise<StepResult> {
  const conn = fcgiConn(c);
  const id = conn.request?.requestId ?? 0;
  switch (step.op) {
    case 'fcgi-read':
      return conn.readStdin().then(() => undefined);
    case 'fcgi-stream':
      return writeStream(conn, step.type, step.bytes, step.length);
    case 'fcgi-end':
      conn.finishRequest();
      return writeBytes(conn, [encodeEndRequest(id, step.appStatus, step.protocolStatus)]);
    case 'fcgi-respond': {
      conn.finishRequest();
      const tail = Buffer.concat([header(TYPE.STDOUT, id, 0), encodeEndRequest(id)]);
      return writeStream(conn, TYPE.STDOUT, step.stdout, step.length, tail);
    }
    case 'fcgi-record': {
      const head = encodeHeader({ version: step.version, type: step.type, requestId: step.requestId ?? id, contentLength: step.contentLength, paddingLength: step.paddingLength });
      return writeBytes(conn, [head, ...step.content, Buffer.alloc(step.paddingLength)]);
    }
  }
}
