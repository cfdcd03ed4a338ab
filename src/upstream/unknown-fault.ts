/**
 * A request that names a fault the upstream cannot run by name: an unknown id, or a listener,
 * DNS or process fault (those act on a port, name or supervised process of their own). Answering
 * it with the default fault would look like the fault worked ("200 ok"); it gets a 404 that says
 * what went wrong instead. Pure: the upstream does the I/O.
 */
import { closest, levenshtein } from '../errors.js';
import type { FaultDef } from '../faults/fault.js';

export type UnknownVia = 'path' | 'header';

/**
 * Longest id looked at or echoed: every fault id is far shorter, and a peer can send a header of
 * many kilobytes, whose edit distance to every id would stall the upstream.
 */
export const MAX_ID_CHARS = 100;

/** How far a path segment may be from a fault id and still read as a misspelling of it. */
const MAX_TYPO = 2;

/**
 * Whether the first segment of a path reads as an attempt to name a fault. With fault paths on,
 * `/<fault-id>` runs that fault and any other path gets the default fault, so `/`, `/api/x`,
 * a gateway's `/healthz` and the harness's `/s/<scenario>` keep working. A segment is taken
 * for a fault id, and answered 404, only when it has a dash (every fault id of more than one
 * word does; app paths of one word never match) and is within two edits of an id
 * (`/empty-replay`) or is the start of one (`/body-cut`). A listener or DNS fault's exact id is
 * always an attempt. One rule a user can predict, rather than a guess at intent.
 */
export function namesAFault(segment: string, ids: readonly string[]): boolean {
  if (ids.includes(segment)) return true;
  if (!segment.includes('-') || segment.length > MAX_ID_CHARS) return false;
  return ids.some((id) => id.startsWith(`${segment}-`) || (Math.abs(id.length - segment.length) <= MAX_TYPO && levenshtein(segment, id) <= MAX_TYPO));
}

/** The 404 for a request that named `id`: a short text body that names the id and what to do instead. */
export function unknownFaultResponse(id: string, via: UnknownVia, def: FaultDef | undefined, ids: readonly string[]): Buffer {
  const body = Buffer.from(`badgateway: BG_UNKNOWN_FAULT: ${unknownFaultText(id, via, def, ids, 'http')}\n`, 'utf8');
  const head = `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\nX-Badgateway-Error: BG_UNKNOWN_FAULT\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Why `id` cannot run here, and what to do instead; `listener` is the protocol of the listener that was asked. */
export function unknownFaultText(id: string, via: UnknownVia, def: FaultDef | undefined, ids: readonly string[], listener: 'http' | 'fastcgi' | 'h2'): string {
  const shown = JSON.stringify(shortId(id));
  const how = via === 'path' ? 'by the request path' : 'by the fault header';
  const speaks = def?.layer === 'exchange' ? (def.protocol ?? 'http') : undefined;
  let text: string;
  if (speaks !== undefined && speaks !== listener) {
    text =
      speaks === 'fastcgi'
        ? `fault ${shown} (named ${how}) speaks FastCGI: send the request to a FastCGI listener (\`badgateway serve --fastcgi-port N\` or --fastcgi-unix PATH) instead.`
        : speaks === 'h2'
          ? `fault ${shown} (named ${how}) speaks HTTP/2: send the request to the HTTP/2 listener (\`badgateway serve --h2-port N\`, h2c with prior knowledge) instead.`
          : `fault ${shown} (named ${how}) speaks HTTP/1: send the request to the HTTP listener instead; the FastCGI faults are the ones named fcgi-*, the HTTP/2 ones h2-* and grpc-*.`;
  } else if (def?.layer === 'listener') {
    text = `fault ${shown} (named ${how}) is a listener fault: it acts before any request is read, on a port of its own (\`badgateway serve\` lists it). Connect to that port instead.`;
  } else if (def?.layer === 'process') {
    text = `fault ${shown} (named ${how}) is a process fault: a backend process badgateway supervises plays it, and \`badgateway serve\` runs none. \`badgateway run\` starts one per scenario (scenarios/process-*.yaml; \`badgateway faults ${def.id}\` says what it does).`;
  } else if (def?.layer === 'dns') {
    text = `fault ${shown} (named ${how}) is a DNS fault: the DNS responder plays it for a name of its own (\`badgateway faults ${def.id}\`). Resolve that name instead.`;
  } else {
    const near = closest(id.slice(0, MAX_ID_CHARS), ids);
    const params = id.includes('?') ? ' Parameters go in the query string of the request, not in the fault id.' : '';
    text = `no fault ${shown} (named ${how}). Closest: ${near.join(', ')}.${params} \`badgateway faults\` (or GET /api/faults on the control API) lists them all.`;
  }
  return text;
}

/** The id as it goes into an event: bounded, like the response. */
export function shortId(id: string): string {
  return id.length > MAX_ID_CHARS ? `${id.slice(0, MAX_ID_CHARS)}…` : id;
}
