/**
 * The DNS responder's functional core: the record table of one zone and the
 * decision "which response does this query get". No I/O, no clock of its own;
 * src/dns/responder.ts owns the sockets and passes the time in.
 */
import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { InputError } from '../errors.js';
import type { DnsAnswer, DnsBehavior } from '../faults/fault.js';

/** What happened to one query; the `outcome` of the event stream. */
export type DnsOutcome =
  | 'answer'
  | 'nodata'
  | 'nxdomain'
  | 'servfail'
  | 'refused'
  | 'silent'
  /** A name outside the zone: REFUSED, because we are nobody's recursive resolver. */
  | 'out-of-zone'
  /** Decodable but not a single standard query: FORMERR or NOTIMP. */
  | 'not-implemented'
  | 'format-error'
  /** Not a DNS message at all: no response (UDP) or the connection closed (TCP). */
  | 'malformed';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_QUERY = 0;
/** RFC 1035 §4.2.1: what a UDP response may hold when the query did not say otherwise via EDNS. */
export const CLASSIC_UDP_LIMIT = 512;
/** The EDNS buffer size we advertise and honour at most (the DNS flag day 2020 value, avoids fragments). */
const EDNS_UDP_LIMIT = 1232;
const MAX_TTL = 0x7fffffff;

export interface ZoneOptions {
  readonly zone: string;
  readonly defaultAddresses: { readonly a: readonly string[]; readonly aaaa: readonly string[] };
  readonly defaultTtl: number;
}

/** Lower case without the trailing dot: the form every name is compared in. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function checkName(name: string, what: string): void {
  // The wire format cannot carry these, and a typo here would only show up as a
  // confusing NXDOMAIN much later, so refuse them where they are written.
  if (name.length > 253) throw new InputError('BG_DNS_BAD_NAME', `${what} "${name}" is longer than 253 characters.`);
  for (const label of name.split('.')) {
    if (label.length === 0) throw new InputError('BG_DNS_BAD_NAME', `${what} "${name}" has an empty label (two dots in a row, or a leading dot).`);
    if (label.length > 63) throw new InputError('BG_DNS_BAD_NAME', `${what} "${name}" has a label longer than 63 characters: "${label}".`);
  }
}

function checkTtl(ttl: number, where: string): void {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
    throw new InputError('BG_DNS_BAD_RECORD', `${where}: ttl must be a whole number of seconds from 0 to ${MAX_TTL}, got ${ttl}.`);
  }
}

function checkAnswer(answer: DnsAnswer, where: string): void {
  if (answer.kind !== 'answer') return;
  for (const ip of answer.a ?? []) {
    if (!isIPv4(ip)) throw new InputError('BG_DNS_BAD_RECORD', `${where}: "${ip}" in a is not an IPv4 address.`);
  }
  for (const ip of answer.aaaa ?? []) {
    if (!isIPv6(ip)) throw new InputError('BG_DNS_BAD_RECORD', `${where}: "${ip}" in aaaa is not an IPv6 address.`);
  }
  if (answer.ttl !== undefined) checkTtl(answer.ttl, where);
}

/** Throws an InputError for a behaviour that would only fail later, at query time. */
export function checkBehavior(behavior: DnsBehavior, where: string): void {
  if (behavior.kind !== 'flap') return checkAnswer(behavior, where);
  if (behavior.phases.length === 0) throw new InputError('BG_DNS_BAD_RECORD', `${where}: a flap needs at least one phase.`);
  behavior.phases.forEach((phase, i) => {
    if (!Number.isFinite(phase.forMs) || phase.forMs <= 0) {
      throw new InputError('BG_DNS_BAD_RECORD', `${where}: phase ${i} forMs must be a positive number of milliseconds, got ${phase.forMs}.`);
    }
    checkAnswer(phase.answer, `${where} phase ${i}`);
  });
}

/** The answer a behaviour gives `elapsedMs` after its record was set; flaps cycle. */
export function answerAt(behavior: DnsBehavior, elapsedMs: number): DnsAnswer {
  if (behavior.kind !== 'flap') return behavior;
  const total = behavior.phases.reduce((sum, p) => sum + p.forMs, 0);
  // A clock that goes backwards (a fake one in a test) still lands in a phase.
  let t = ((elapsedMs % total) + total) % total;
  for (const phase of behavior.phases) {
    if (t < phase.forMs) return phase.answer;
    t -= phase.forMs;
  }
  return behavior.phases[behavior.phases.length - 1]!.answer;
}

/**
 * The records of one zone, keyed by canonical full name. Each record keeps the time it was set:
 * a flap's clock starts there, so whoever sets a record decides when its phases begin (the
 * harness sets a scenario's record as the scenario's first request goes out).
 */
export class DnsZone {
  readonly zone: string;
  private readonly records = new Map<string, { readonly behavior: DnsBehavior; readonly sinceMs: number }>();
  private readonly opts: ZoneOptions;

  constructor(opts: ZoneOptions) {
    this.zone = canonicalName(opts.zone);
    checkName(this.zone, 'zone');
    for (const ip of opts.defaultAddresses.a) {
      if (!isIPv4(ip)) throw new InputError('BG_DNS_BAD_RECORD', `default A address "${ip}" is not an IPv4 address.`);
    }
    for (const ip of opts.defaultAddresses.aaaa) {
      if (!isIPv6(ip)) throw new InputError('BG_DNS_BAD_RECORD', `default AAAA address "${ip}" is not an IPv6 address.`);
    }
    checkTtl(opts.defaultTtl, 'defaultTtl');
    this.opts = opts;
  }

  /** 'nxdomain' → 'nxdomain.badgateway.test'; a name already in the zone stays as it is; '' and '@' are the apex. */
  nameFor(label: string): string {
    const l = canonicalName(label);
    if (l === '' || l === '@') return this.zone;
    const full = this.contains(l) ? l : `${l}.${this.zone}`;
    checkName(full, 'name');
    return full;
  }

  /** `nowMs` on the clock later passed to decide(): a flap is in its first phase then. */
  set(label: string, behavior: DnsBehavior, nowMs = 0): void {
    const name = this.nameFor(label);
    checkBehavior(behavior, name);
    this.records.set(name, { behavior, sinceMs: nowMs });
  }

  contains(canonical: string): boolean {
    return canonical === this.zone || canonical.endsWith(`.${this.zone}`);
  }

  get(canonical: string): DnsBehavior | undefined {
    return this.records.get(canonical)?.behavior;
  }

  /** The answer the name's record gives at `nowMs` (its flap clock counted from when it was set). */
  answerFor(canonical: string, nowMs: number): DnsAnswer | undefined {
    const record = this.records.get(canonical);
    return record && answerAt(record.behavior, nowMs - record.sinceMs);
  }

  /**
   * True when a record exists at or below the name: the apex and names with
   * records beneath them (empty non-terminals) exist and answer NODATA, not
   * NXDOMAIN, or a resolver would conclude everything below them is gone too
   * (RFC 8020).
   */
  exists(canonical: string): boolean {
    if (canonical === this.zone || this.records.has(canonical)) return true;
    const suffix = `.${canonical}`;
    for (const name of this.records.keys()) if (name.endsWith(suffix)) return true;
    return false;
  }

  get defaultTtl(): number {
    return this.opts.defaultTtl;
  }

  get defaultAddresses(): ZoneOptions['defaultAddresses'] {
    return this.opts.defaultAddresses;
  }
}

export interface DnsDecision {
  readonly outcome: DnsOutcome;
  /** Canonical query name, '' when there was no usable question. */
  readonly name: string;
  /** Query type as dns-packet names it ('A', 'AAAA', 'UNKNOWN_65', ...), '' when none. */
  readonly type: string;
  /** The response to send; undefined means send nothing (silent). */
  readonly response: Packet | undefined;
}

function soa(zone: DnsZone, owner: string): Answer {
  const ttl = zone.defaultTtl;
  return {
    type: 'SOA',
    name: owner,
    ttl,
    // minimum is the negative-caching TTL (RFC 2308): keep it as short as the
    // positive one so a test that flips a record is not served a stale NXDOMAIN.
    data: { mname: `ns.${zone.zone}`, rname: `hostmaster.${zone.zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: ttl },
  };
}

function addressAnswers(zone: DnsZone, answer: Extract<DnsAnswer, { kind: 'answer' }>, question: Question): Answer[] {
  const ttl = answer.ttl ?? zone.defaultTtl;
  // dns-packet's types omit ANY, but it decodes type 255 as 'ANY'.
  const type: string = question.type;
  const a = type === 'A' || type === 'ANY' ? (answer.a ?? zone.defaultAddresses.a) : [];
  const aaaa = type === 'AAAA' || type === 'ANY' ? (answer.aaaa ?? zone.defaultAddresses.aaaa) : [];
  return [
    ...a.map((ip): Answer => ({ type: 'A', name: question.name, ttl, data: ip })),
    ...aaaa.map((ip): Answer => ({ type: 'AAAA', name: question.name, ttl, data: ip })),
  ];
}

/**
 * dns-packet decodes label bytes as UTF-8 and joins labels with dots, so bytes that are not UTF-8
 * come back as U+FFFD, a label can grow past 63 bytes, and a dot inside a label can split it
 * into an empty one: echoing such a question would send another name, or a response nobody can
 * decode ("bad label"). Those queries get FORMERR without a question section.
 */
function echoable(q: Question): boolean {
  if (q.name === '.') return true;
  return !q.name.includes('\uFFFD') && Buffer.byteLength(q.name) <= 253 && q.name.split('.').every((l) => l.length > 0 && Buffer.byteLength(l) <= 63);
}

/** Decide the response to one decoded query at `nowMs` (the clock the zone's records were set on). */
export function decide(zone: DnsZone, query: DecodedPacket, nowMs: number): DnsDecision {
  const question = query.questions?.[0];
  const name = question ? canonicalName(question.name) : '';
  const type: string = question?.type ?? '';
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  const ednsOpt = query.additionals?.find((r) => r.type === 'OPT');

  const echo = (query.questions ?? []).every(echoable);
  const reply = (outcome: DnsOutcome, rcode: number, authoritative: boolean, answers: Answer[] = [], authorities: Answer[] = []): DnsDecision => {
    const flags = (opcode << 11) | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | rcode;
    const response: Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags,
      questions: echo ? (query.questions ?? []) : [],
      answers,
      authorities,
      // Answering an EDNS query with EDNS tells the resolver we understood it;
      // some resolvers retry without EDNS (a second round trip) when the OPT is missing.
      additionals: ednsOpt ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_LIMIT, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    };
    return { outcome, name, type, response };
  };

  if (opcode !== OPCODE_QUERY) return reply('not-implemented', RCODE.NOTIMP, false);
  if (!question || query.questions!.length !== 1 || !echo) return reply('format-error', RCODE.FORMERR, false);
  if (!zone.contains(name) || (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY')) {
    return reply('out-of-zone', RCODE.REFUSED, false);
  }

  const answer = zone.answerFor(name, nowMs);
  if (!answer) {
    if (!zone.exists(name)) return reply('nxdomain', RCODE.NXDOMAIN, true, [], [soa(zone, zone.zone)]);
    if (name === zone.zone && (type === 'SOA' || type === 'ANY')) return reply('answer', RCODE.NOERROR, true, [soa(zone, question.name)]);
    return reply('nodata', RCODE.NOERROR, true, [], [soa(zone, zone.zone)]);
  }

  switch (answer.kind) {
    case 'nxdomain':
      return reply('nxdomain', RCODE.NXDOMAIN, true, [], [soa(zone, zone.zone)]);
    case 'servfail':
      return reply('servfail', RCODE.SERVFAIL, false);
    case 'refused':
      return reply('refused', RCODE.REFUSED, false);
    case 'nodata':
      return reply('nodata', RCODE.NOERROR, true, [], [soa(zone, zone.zone)]);
    case 'silent':
      return { outcome: 'silent', name, type, response: undefined };
    case 'answer': {
      const answers = addressAnswers(zone, answer, question);
      return answers.length > 0 ? reply('answer', RCODE.NOERROR, true, answers) : reply('nodata', RCODE.NOERROR, true, [], [soa(zone, zone.zone)]);
    }
  }
}

/** The UDP size limit a query asked for: 512 without EDNS, its advertised size (capped) with it. */
export function udpLimit(query: DecodedPacket): number {
  const opt = query.additionals?.find((r) => r.type === 'OPT');
  if (!opt || opt.type !== 'OPT') return CLASSIC_UDP_LIMIT;
  return Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize, EDNS_UDP_LIMIT));
}

/**
 * Encode a response; over `maxBytes` it goes out empty with TC set, which makes
 * a real resolver retry over TCP, exactly what a big answer does in production.
 */
export function encodeResponse(response: Packet, maxBytes: number): Buffer {
  const full = dnsPacket.encode(response);
  if (full.length <= maxBytes) return full;
  return dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
}
