/** The byte and time notation every wire expectation shares (WireExpectation in fault.ts, H2WireExpectation in h2-wire.ts). */
/**
 * Bytes as data: a latin1 string (spell control bytes as `\x00`), or a list of parts joined in
 * order, where `{ hex }` is bytes in hex (whitespace ignored) and `{ repeat, times }` is a
 * latin1 string repeated, so a 64 KiB header stays one line of data.
 */
export type WireBytes = string | ReadonlyArray<string | { readonly hex: string } | { readonly repeat: string; readonly times: number }>;

/** A bound on a time in ms: `atLeast` is inclusive (>=), `below` exclusive (<). */
export interface WireBounds {
  readonly atLeast?: number;
  readonly below?: number;
}
