/**
 * The security verdict: a scenario that says the gateway must refuse its upstream (`mustRefuse:
 * an expired upstream certificate`) and whose upstream's response still reached the client is a
 * security finding, whatever its expectation says. Pure, like the judge that calls it.
 *
 * A finding is not a failed expectation: the suite measures what a gateway does with its default
 * config, and nginx's default is to accept any upstream certificate. The expectation records that
 * (and passes); the finding says, in its own colour and with exit status 3, that it is unsafe.
 */
import type { Outcome } from '../probe/http-probe.js';

export interface SecurityFinding {
  /** "nginx's default config accepts an expired upstream certificate (proxy_ssl_verify is off by default)". */
  readonly message: string;
  /** What to write to refuse it, in the gateway's own words: "proxy_ssl_verify on; proxy_ssl_trusted_certificate <CA file>;". */
  readonly directive?: string;
}

/** What a scenario says about the upstream certificate: the parts of a Scenario the verdict reads. */
export interface SecurityInput {
  readonly mustRefuse?: string;
  /** What the gateway was told to do with the upstream certificate (contracts: `tlsVerify`). */
  readonly tlsVerify?: 'default' | 'on' | 'off';
}

export interface SecurityContext {
  readonly gateway: string;
  /** A user's config decides verification itself: the scenario's tlsVerify was not rendered. */
  readonly userConfig: boolean;
}

/**
 * Each gateway's upstream-verification switch and what it does when nothing is written.
 * Sources: nginx ngx_http_proxy_module (proxy_ssl_verify, default off); HAProxy configuration
 * manual (`verify` on a server line; global `ssl-server-verify`, default required); Caddy
 * reverse_proxy transport http (`tls_insecure_skip_verify`; it verifies with the system trust
 * store otherwise); Apache mod_ssl (SSLProxyVerify, default none).
 */
const VERIFY: Readonly<Record<string, { readonly byDefault: string; readonly on: string; readonly fix: string }>> = {
  nginx: {
    byDefault: 'proxy_ssl_verify is off by default',
    on: 'proxy_ssl_verify on',
    fix: 'proxy_ssl_verify on; proxy_ssl_trusted_certificate <CA file>; proxy_ssl_server_name on; proxy_ssl_name <upstream name>;',
  },
  haproxy: {
    byDefault: 'a server line without `verify` follows the global ssl-server-verify (required unless set to none)',
    on: 'verify required',
    fix: 'server ... ssl verify required ca-file <CA file> sni str(<upstream name>)',
  },
  caddy: {
    byDefault: 'Caddy verifies against the system trust store unless tls_insecure_skip_verify is set',
    on: 'tls_trusted_ca_certs',
    fix: 'transport http { tls; tls_trusted_ca_certs <CA file>; tls_server_name <upstream name> } and no tls_insecure_skip_verify',
  },
  apache: {
    byDefault: 'SSLProxyVerify is none by default',
    on: 'SSLProxyVerify require',
    fix: 'SSLProxyVerify require; SSLProxyCACertificateFile <CA file>; SSLProxyCheckPeerName on; SSLProxyCheckPeerExpire on',
  },
};

/**
 * Whether the upstream's own response reached the client. The TLS faults answer, after their
 * handshake, with the healthy 200; a gateway that refuses the upstream answers with its own error
 * (5xx) or nothing at all, and never with a 2xx, so a 2xx can only be the upstream's response.
 */
export function upstreamReachedClient(outcomes: readonly Outcome[]): boolean {
  return outcomes.some((o) => o.status !== undefined && o.status >= 200 && o.status < 300);
}

export function securityFinding(scenario: SecurityInput, outcomes: readonly Outcome[], ctx: SecurityContext): SecurityFinding | undefined {
  const what = scenario.mustRefuse;
  if (what === undefined || !upstreamReachedClient(outcomes)) return undefined;
  const verify = scenario.tlsVerify ?? 'default';
  // The scenario turned verification off on purpose, to show the gateway without it: that is its subject, not a finding.
  if (!ctx.userConfig && verify === 'off') return undefined;
  const gw = VERIFY[ctx.gateway];
  if (ctx.userConfig) return { message: `your ${ctx.gateway} config accepts ${what}: the upstream's response reached the client`, ...(gw ? { directive: gw.fix } : {}) };
  if (verify === 'on') return { message: `${ctx.gateway} accepts ${what} even with verification on${gw ? ` (${gw.on})` : ''}`, ...(gw ? { directive: gw.fix } : {}) };
  return { message: `${ctx.gateway}'s default config accepts ${what}${gw ? ` (${gw.byDefault})` : ''}`, ...(gw ? { directive: gw.fix } : {}) };
}
