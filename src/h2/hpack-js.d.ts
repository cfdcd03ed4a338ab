// hpack.js ships no types; this is the part src/h2/hpack.ts uses.
declare module 'hpack.js' {
  interface HeaderField {
    name: string;
    value: string;
    huffman?: boolean;
    neverIndex?: boolean;
  }
  interface Compressor {
    write(headers: HeaderField[]): void;
    read(): Buffer | null;
    updateTableSize(size: number): void;
  }
  interface Decompressor {
    write(block: Buffer): void;
    execute(): void;
    read(): { name: string; value: string; neverIndex: boolean } | null;
    updateTableSize(size: number): void;
  }
  const hpack: {
    compressor: { create(opts: { table: { size: number } }): Compressor };
    decompressor: { create(opts: { table: { size: number } }): Decompressor };
  };
  export default hpack;
}
