/**
 * HPACK (RFC 7541) for the upstream's HTTP/2 side, through hpack.js: the header block codec of
 * spdy-transport, used by webpack-dev-server and so installed tens of millions of times a
 * month, with no native parts. Node's own http2 has HPACK inside nghttp2 but exposes no codec,
 * and Node's http2 server would not let a fault write a header it considers invalid, which is
 * what the h2-* faults are for. hpack.js encodes whatever names and values it is given.
 */
import hpack from 'hpack.js';

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 section 6.5.2). */
const TABLE = 4096;

/** One connection's encoder: its dynamic table lives as long as the connection. */
export class HpackEncoder {
  private readonly c = hpack.compressor.create({ table: { size: TABLE } });

  /** A header block for `headers` in order, names and values exactly as given (no checks: a fault may send an invalid one). */
  encode(headers: ReadonlyArray<readonly [string, string]>): Buffer {
    // Huffman off: the bytes on the wire stay readable in a capture, and nothing depends on their size.
    this.c.write(headers.map(([name, value]) => ({ name, value, huffman: false })));
    const out: Buffer[] = [];
    for (let b = this.c.read(); b !== null; b = this.c.read()) out.push(b);
    return Buffer.concat(out);
  }
}

/** A header block the decoder could not read: a COMPRESSION_ERROR (RFC 9113 section 4.3). */
export class HpackError extends Error {}

/** One connection's decoder. */
export class HpackDecoder {
  private readonly d = hpack.decompressor.create({ table: { size: TABLE } });

  decode(block: Buffer): Array<[string, string]> {
    try {
      this.d.write(block);
      this.d.execute();
    } catch (err) {
      throw new HpackError(`the request's header block does not decode: ${(err as Error).message}`);
    }
    const out: Array<[string, string]> = [];
    for (let h = this.d.read(); h !== null; h = this.d.read()) out.push([h.name, h.value]);
    return out;
  }
}
