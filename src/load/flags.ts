/**
 * The load command's own values: a rate (`2000/s`, `120/m`, `500`), a duration (`30s`,
 * `500ms`, `2m`, `10`). Each bad value is a one-paragraph InputError naming the flag. Pure.
 */
import { InputError } from '../errors.js';

export const MAX_RATE = 1_000_000;
export const MAX_DURATION_MS = 24 * 3600 * 1000;

function one(flag: string, value: unknown, example: string): string {
  if (Array.isArray(value)) throw new InputError('BG_BAD_FLAG', `${flag} was given ${value.length} times (${value.join(', ')}); give it once, e.g. ${flag} ${example}.`);
  const text = value === undefined || value === null ? '' : String(value).trim();
  if (text === '') throw new InputError('BG_BAD_FLAG', `${flag} needs a value, e.g. ${flag} ${example}.`);
  return text;
}

function shown(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return /^[\w./+-]+$/.test(short) ? short : JSON.stringify(short);
}

/** Requests per second from `N`, `N/s` or `N/m` (N may have a fraction); from 1/s to 1,000,000/s. */
export function parseRate(value: unknown): number {
  const text = one('--rate', value, '2000/s');
  const m = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min))?$/i.exec(text);
  if (!m) throw new InputError('BG_BAD_FLAG', `--rate ${shown(text)} is not a rate: give requests per second as N/s (e.g. --rate 2000/s), or per minute as N/m.`);
  const n = Number(m[1]);
  const perSec = m[2] && m[2].toLowerCase().startsWith('m') ? n / 60 : n;
  if (!(perSec >= 1 && perSec <= MAX_RATE)) throw new InputError('BG_BAD_FLAG', `--rate ${shown(text)} is out of range: give from 1/s to ${MAX_RATE}/s.`);
  return perSec;
}

/** Milliseconds from `Nms`, `Ns`, `Nm` or a bare number of seconds; above 0, at most 24 h. */
export function parseDuration(flag: string, value: unknown, example = '30s'): number {
  const text = one(flag, value, example);
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text);
  if (!m) throw new InputError('BG_BAD_FLAG', `${flag} ${shown(text)} is not a duration: give a positive time such as 30s, 500ms or 2m (a bare number is seconds).`);
  const unit = (m[2] ?? 's').toLowerCase();
  const msv = Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
  if (!(msv >= 1 && msv <= MAX_DURATION_MS)) throw new InputError('BG_BAD_FLAG', `${flag} ${shown(text)} is out of range: give from 1ms to 24h.`);
  return msv;
}

/** A seed: a whole number from 0 to 2^32 - 1 (the PRNG's state). */
export function parseSeed(value: unknown): number {
  const text = one('--seed', value, '7');
  if (!/^\d+$/.test(text) || Number(text) > 2 ** 32 - 1) throw new InputError('BG_BAD_FLAG', `--seed ${shown(text)} is not a seed: give a whole number from 0 to 4294967295; the report prints the seed of every run, so a run can be replayed with it.`);
  return Number(text);
}
