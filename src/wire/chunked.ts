/**
 * Chunked transfer coding: encoding for responses, and an incremental decoder
 * that tells how many bytes of a buffer belong to a chunked body. Pure.
 */

export function encodeChunk(data: Buffer): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from(data.length.toString(16) + '\r\n', 'latin1'), data, Buffer.from('\r\n', 'latin1')]);
}

export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * Feed bytes; `push` returns how many bytes of `buf` belong to the body (the
 * rest, if any, is the next message). `done` turns true after the last chunk
 * and its trailer section.
 */
export class ChunkedBodyScanner {
  private state: State = 'size';
  private remaining = 0;
  private line = '';
  /** Body payload bytes seen (chunk data only). */
  payloadBytes = 0;
  error: string | undefined;

  get done(): boolean {
    return this.state === 'done';
  }

  push(buf: Buffer): number {
    let i = 0;
    while (i < buf.length && this.state !== 'done' && this.error === undefined) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, buf.length - i);
        i += take;
        this.remaining -= take;
        this.payloadBytes += take;
        if (this.remaining === 0) this.state = 'data-crlf';
        continue;
      }
      const nl = buf.indexOf(10, i);
      if (nl === -1) {
        this.line += buf.toString('latin1', i, buf.length);
        if (this.line.length > 8192) this.error = 'chunk line longer than 8192 bytes';
        return buf.length;
      }
      const line = (this.line + buf.toString('latin1', i, nl)).replace(/\r$/, '');
      this.line = '';
      i = nl + 1;
      if (this.state === 'size') {
        const digits = line.split(';')[0]!.trim();
        // The whole size must be hex digits: parseInt alone would read "5z" or "0x5" as a size.
        if (!/^[0-9a-f]+$/i.test(digits)) {
          this.error = `invalid chunk size line ${JSON.stringify(line)}`;
          break;
        }
        const size = parseInt(digits, 16);
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (this.state === 'data-crlf') {
        if (line !== '') {
          this.error = `chunk data longer than its size (expected CRLF, got ${JSON.stringify(line.slice(0, 40))})`;
          break;
        }
        this.state = 'size';
      } else if (this.state === 'trailer') {
        if (line === '') this.state = 'done';
      }
    }
    return i;
  }
}
