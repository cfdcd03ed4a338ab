/**
 * Runs the HTTP/2 steps (src/faults/h2-steps.ts) on an h2 connection: header blocks encoded
 * with the connection's HPACK table as they are written, DATA split to the client's
 * SETTINGS_MAX_FRAME_SIZE and, unless the step says otherwise, held to its flow-control
 * windows (the step reads the client's WINDOW_UPDATEs while it waits).
 */
import { encodeFrameHeader, FLAG, FRAME_TYPE, goawayPayload, rstStreamPayload, windowUpdatePayload } from '../h2/frames.js';
import type { Conn } from './conn.js';
import { H2Conn } from './h2-conn.js';
import type { H2Step } from './h2-steps.js';
import { sliceBytes, type Bytes } from './bytes.js';
import { drain, writeBytes, type StepResult } from './write.js';

function h2Conn(conn: Conn): H2Conn {
  // The loader refuses HTTP/2 steps in other faults, and only the h2 listener runs h2 faults.
  if (!(conn instanceof H2Conn)) throw new Error('an HTTP/2 step ran on a connection that does not speak HTTP/2');
  return conn;
}

const requestStream = (conn: H2Conn, stream: number | undefined) => stream ?? conn.stream?.id ?? 1;

/** A header block as HEADERS (and CONTINUATION frames when it is larger than a frame may be). */
function writeHeaders(conn: H2Conn, streamId: number, headers: ReadonlyArray<readonly [string, string]>, endStream: boolean, endHeaders = true): void {
  const block = conn.encoder.encode(headers);
  const max = conn.peerMaxFrame;
  for (let off = 0, first = true; first || off < block.length; off += max, first = false) {
    const piece = block.subarray(off, off + max);
    const last = off + max >= block.length;
    const flags = (first && endStream ? FLAG.END_STREAM : 0) | (last && endHeaders ? FLAG.END_HEADERS : 0);
    conn.writeFrame(first ? FRAME_TYPE.HEADERS : FRAME_TYPE.CONTINUATION, flags, streamId, piece);
  }
}

/**
 * `length` bytes as DATA frames on `streamId`; END_STREAM on the last when `endStream` (an empty
 * body with END_STREAM is one empty frame). With `flowControl`, each frame waits for window.
 */
async function writeData(conn: H2Conn, streamId: number, bytes: Bytes, length: number, endStream: boolean, flowControl: boolean): Promise<void> {
  if (length === 0) {
    if (endStream) conn.writeFrame(FRAME_TYPE.DATA, FLAG.END_STREAM, streamId);
    return;
  }
  for (let off = 0; off < length; ) {
    if (conn.closed || conn.socket.writableEnded) return;
    let room = Math.min(conn.peerMaxFrame, length - off);
    if (flowControl) {
      // Wait for window: the client's WINDOW_UPDATEs (and SETTINGS) arrive as frames; a client that never opens it holds the step here.
      while (Math.min(conn.connWindow, conn.streamWindow(streamId)) <= 0) await conn.nextFrame();
      room = Math.min(room, conn.connWindow, conn.streamWindow(streamId));
      conn.spend(streamId, room);
    }
    const last = off + room >= length;
    const head = encodeFrameHeader({ length: room, type: FRAME_TYPE.DATA, flags: last && endStream ? FLAG.END_STREAM : 0, streamId });
    if (!conn.write(Buffer.concat([head, sliceBytes(bytes, off, room)]))) await drain(conn);
    off += room;
  }
}

export function runH2Step(c: Conn, step: H2Step): StepResult | Promise<StepResult> {
  const conn = h2Conn(c);
  switch (step.op) {
    case 'h2-read':
      if (step.what === 'body') return conn.readStreamBody().then(() => undefined);
      conn.finishStream();
      return conn.readRequest().then((s) => {
        if (s !== undefined) return;
        conn.destroy();
        return 'closed' as const;
      });
    case 'h2-settings':
      conn.acksSettings = step.ack;
      conn.grantsWindow = step.windowUpdates;
      conn.writeSettings(step.settings);
      return;
    case 'h2-headers':
      conn.ensurePreface();
      writeHeaders(conn, requestStream(conn, step.stream), step.headers, step.endStream, step.endHeaders);
      return;
    case 'h2-data':
      conn.ensurePreface();
      return writeData(conn, requestStream(conn, step.stream), step.bytes, step.length, step.endStream, step.flowControl);
    case 'h2-rst-stream':
      conn.ensurePreface();
      conn.writeFrame(FRAME_TYPE.RST_STREAM, 0, requestStream(conn, step.stream), rstStreamPayload(step.code));
      return;
    case 'h2-goaway': {
      conn.ensurePreface();
      const current = conn.stream?.id ?? conn.lastPeerStream;
      const last = step.lastStreamId === 'current' ? current : step.lastStreamId === 'previous' ? Math.max(0, current - 2) : step.lastStreamId;
      conn.writeFrame(FRAME_TYPE.GOAWAY, 0, 0, goawayPayload(last, step.code, step.debug));
      return;
    }
    case 'h2-window-update':
      conn.ensurePreface();
      conn.writeFrame(FRAME_TYPE.WINDOW_UPDATE, 0, requestStream(conn, step.stream), windowUpdatePayload(step.increment));
      return;
    case 'h2-frame': {
      // Exactly as declared, with no ACKs owed written first: after the server's preface, a fault can make its next frame anything.
      const head = encodeFrameHeader({ length: step.declared, type: step.type, flags: step.flags, streamId: requestStream(conn, step.stream) });
      return writeBytes(conn, [head, ...step.payload]);
    }
    case 'h2-message': {
      conn.ensurePreface();
      const id = requestStream(conn, undefined);
      const bodyOrTrailers = step.length > 0 || step.trailers !== undefined;
      if (step.headers !== undefined) writeHeaders(conn, id, step.headers, step.endStream && !bodyOrTrailers);
      const trailers = step.trailers;
      const data = step.length > 0 ? writeData(conn, id, step.body, step.length, step.endStream && trailers === undefined, true) : undefined;
      if (trailers === undefined) return data;
      if (data === undefined) {
        writeHeaders(conn, id, trailers, step.endStream);
        return;
      }
      return data.then(() => {
        if (!conn.closed) writeHeaders(conn, id, trailers, step.endStream);
      });
    }
  }
}
