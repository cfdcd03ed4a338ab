/**
 * Numeric options, checked first thing in a command's handler so a bad value stops it before it
 * starts anything. The options are declared without `type: 'number'` on purpose: yargs turns
 * "abc" into NaN, and the error could no longer quote what was typed. (Not as a yargs `coerce`:
 * yargs rewraps what a coerce throws as a plain YError, which loses the code.)
 */
import { InputError } from '../errors.js';

export interface WholeNumberSpec {
  readonly min: number;
  readonly max: number;
  /** What to give, completing "give ...": e.g. "a port from 0 to 65535 (0 picks a free one)". */
  readonly what: string;
}

/** A whole number within [min, max], from what yargs parsed; anything else is an InputError that names the flag. */
export function parseWholeNumber(flag: string, value: unknown, spec: WholeNumberSpec): number {
  if (Array.isArray(value)) {
    throw new InputError('BG_BAD_FLAG', `${flag} was given ${value.length} times (${value.join(', ')}); give it once: ${spec.what}.`);
  }
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
  if (text === '') throw new InputError('BG_BAD_FLAG', `${flag} needs a value: give ${spec.what}.`);
  const n = typeof value === 'number' ? value : /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  // `--flag value`, or `--flag id=value` for a flag whose value is a pair.
  const given = (t: string) => (flag.endsWith('=') ? `${flag}${t}` : `${flag} ${t}`);
  if (!Number.isSafeInteger(n)) throw new InputError('BG_BAD_FLAG', `${given(quote(text))} is not a whole number: give ${spec.what}.`);
  if (n < spec.min || n > spec.max) throw new InputError('BG_BAD_FLAG', `${given(text)} is out of range: give ${spec.what}.`);
  return n;
}

export const PORT: WholeNumberSpec = { min: 0, max: 65535, what: 'a port from 0 to 65535 (0 picks a free one)' };

function quote(text: string): string {
  // A pasted value can be long or hold control characters: keep the message one short paragraph.
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return /^[\w.+-]+$/.test(short) ? short : JSON.stringify(short);
}
