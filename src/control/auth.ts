/**
 * Who may talk to the control API. It can change what every request to the
 * upstream gets, so anything reachable from another machine needs a token,
 * and a loopback bind without one still refuses what a browser page could
 * send it (DNS rebinding, cross-origin WebSockets).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** True for names and addresses only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost. */
export function isLoopback(host: string): boolean {
  const h = unbracket(host.trim().toLowerCase());
  if (h === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return h.startsWith('127.');
  if (family === 6) {
    // The URL parser gives IPv6 its canonical form, so 0:0:0:0:0:0:0:1 and ::ffff:127.0.0.1 compare as written below.
    const canonical = unbracket(new URL(`http://[${h}]/`).hostname);
    return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
  }
  return false;
}

/**
 * A Host header a browser can only send when the page itself was loaded from
 * an address, not a name: a DNS-rebinding page always carries its own domain
 * here, while a real client of a loopback bind uses 127.0.0.1 or localhost.
 */
export function isLiteralHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}/`).hostname;
  } catch {
    return false;
  }
  hostname = unbracket(hostname);
  return hostname === 'localhost' || isIP(hostname) !== 0;
}

/** An Origin header from a page served by this machine, or none at all (not a browser). */
export function isLocalOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return isLoopback(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^Bearer[ \t]+(.+)$/i.exec(authorization.trim());
  return m?.[1]?.trim();
}

export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /**
   * Constant time: both sides are hashed first, so neither the content nor the
   * length of a wrong guess changes how long the comparison takes.
   */
  matches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    return timingSafeEqual(digest(candidate), this.expected);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function unbracket(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}
