/**
 * Numeric options checked while yargs parses, so a bad value stops the command before it
 * starts anything. The options are declared without `type: 'number'` on purpose: yargs
 * turns "abc" into NaN (and a bare `--port` into 0), and the error could no longer quote
 * what was typed.
 */
import { InputError } from '../errors.js';

export interface WholeNumberSpec {
  readonly min: number;
  readonly max: number;
  /** What to give, completing "give ...": e.g. "a port from 0 to 65535 (0 picks a free one)". */
  readonly what: string;
}

/** A yargs `coerce` for a whole number within [min, max]; anything else is an InputError that names the flag. */
export function wholeNumber(flag: string, spec: WholeNumberSpec): (value: unknown) => number {
  return (value) => parseWholeNumber(flag, value, spec);
}

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

export const port = (flag: string) => wholeNumber(flag, PORT);

function quote(text: string): string {
  // A pasted value can be long or hold control characters: keep the message one short paragraph.
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return /^[\w.+-]+$/.test(short) ? short : JSON.stringify(short);
}
