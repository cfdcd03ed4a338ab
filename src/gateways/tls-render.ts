/**
 * How each adapter tells its gateway to speak TLS to a route's upstream, in the gateway's own
 * directives. Pure. Three variants (RouteTls.verify):
 *   default: only what the gateway needs to speak TLS at all, so the gateway's own default decides
 *            what it does with the certificate (nginx: accept anything; HAProxy: verify, with the
 *            CA it cannot start without; Caddy: verify against the system trust store, which
 *            does not hold the run's CA; Apache: any chain, but the name and the dates checked);
 *   on:      verify the chain against the run's CA and the name against RouteTls.serverName, and
 *            send that name as SNI;
 *   off:     verification turned off explicitly, SNI still sent.
 * A client certificate (mTLS) is presented in every variant when the route has one.
 */
import type { RouteTls } from './gateway.js';

/**
 * nginx and HAProxy count the TLS handshake against the connect timeout, Caddy against its read
 * deadline. The suite's 1 s is
 * for a TCP connect; a TLS route gets 3 s, so that a handshake on a loaded CI machine (the
 * upstream signs with RSA for every connection) is not read as a stalled upstream.
 */
export const TLS_CONNECT_TIMEOUT_S = 3;

/**
 * nginx: the location's proxy_ssl_* lines (proxy_pass takes https:// in the adapter), or for a
 * gRPC route the grpc_ssl_* ones (grpc_pass grpcs://): the same directives in ngx_http_grpc_module.
 * The connect timeout, which the handshake counts against, is at least TLS_CONNECT_TIMEOUT_S.
 */
export function nginxTlsLines(tls: RouteTls, opts: { readonly connectMs: number; readonly module?: 'proxy' | 'grpc' }): string[] {
  const m = opts.module ?? 'proxy';
  const lines: string[] = [`${m}_connect_timeout ${Math.ceil(Math.max(opts.connectMs, TLS_CONNECT_TIMEOUT_S * 1000) / 1000)}s;`];
  // nginx sends no SNI unless told (proxy_ssl_server_name off), and proxy_ssl_name defaults to the proxy_pass host.
  const sni = [`${m}_ssl_server_name on;`, `${m}_ssl_name ${tls.serverName};`];
  if (tls.verify === 'on') lines.push(`${m}_ssl_verify on;`, `${m}_ssl_trusted_certificate ${tls.caFile};`, ...sni);
  else if (tls.verify === 'off') lines.push(`${m}_ssl_verify off;`, ...sni);
  if (tls.clientCert) lines.push(`${m}_ssl_certificate ${tls.clientCert.certFile};`, `${m}_ssl_certificate_key ${tls.clientCert.keyFile};`);
  return lines;
}

/**
 * HAProxy: the options after a `server` line's address. Without `verify`, a server follows the
 * global `ssl-server-verify`, whose default is `required`, and HAProxy refuses to start with
 * "verify is enabled by default but no CA file specified": the CA is what the default needs to
 * run at all. HAProxy sends SNI only when told (`sni`); without it, it checks no name.
 */
export function haproxyServerTls(tls: RouteTls): string {
  const opts = ['ssl'];
  if (tls.verify === 'on') opts.push('verify required', `ca-file ${tls.caFile}`, `sni str(${tls.serverName})`, `verifyhost ${tls.serverName}`);
  else if (tls.verify === 'off') opts.push('verify none', `sni str(${tls.serverName})`);
  else opts.push(`ca-file ${tls.caFile}`);
  // crt is one PEM with the certificate and its key (RunPki.clientCertFile holds both).
  if (tls.clientCert) opts.push(`crt ${tls.clientCert.certFile}`);
  return ` ${opts.join(' ')}`;
}

/**
 * Caddy: the http transport's `tls` object (JSON config). An empty object speaks TLS and verifies
 * against the system trust store. Caddyfile spellings, for the field guide: tls,
 * tls_trusted_ca_certs, tls_server_name, tls_insecure_skip_verify, tls_client_auth.
 */
export function caddyTransportTls(tls: RouteTls): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (tls.verify === 'on') Object.assign(out, { root_ca_pem_files: [tls.caFile], server_name: tls.serverName });
  else if (tls.verify === 'off') Object.assign(out, { insecure_skip_verify: true, server_name: tls.serverName });
  if (tls.clientCert) Object.assign(out, { client_certificate_file: tls.clientCert.certFile, client_certificate_key_file: tls.clientCert.keyFile });
  return out;
}

/**
 * Apache: SSLProxy* for one backend URL, in a <Proxy> section of its own (mod_ssl takes them
 * there since 2.4.30), so each route has its own. SSLProxyVerify defaults to none, while
 * SSLProxyCheckPeerName and SSLProxyCheckPeerExpire default to on. mod_proxy checks the peer name
 * against the host of the URL (127.0.0.1: the run's certificates carry it, src/tls/pki.ts) and sends
 * no SNI for an IP address. ProxyPreserveHost On makes it the client's Host instead (mod_proxy's
 * source); no directive names a fixed server name.
 */
export function apacheTlsSection(url: string, tls: RouteTls): string {
  return `<Proxy "${url}">\n${apacheTlsLines(tls).map((l) => `  ${l}`).join('\n')}\n</Proxy>`;
}

/** The SSLProxy* lines themselves, for a <Proxy> section (a route's URL or a balancer's). */
export function apacheTlsLines(tls: RouteTls): string[] {
  const lines = ['SSLProxyEngine on'];
  if (tls.verify === 'on') {
    lines.push('SSLProxyVerify require', `SSLProxyCACertificateFile "${tls.caFile}"`, 'SSLProxyCheckPeerName on', 'SSLProxyCheckPeerExpire on');
  } else if (tls.verify === 'off') {
    lines.push('SSLProxyVerify none', 'SSLProxyCheckPeerName off', 'SSLProxyCheckPeerCN off', 'SSLProxyCheckPeerExpire off');
  }
  // One PEM with the certificate and its key (RunPki.clientCertFile holds both).
  if (tls.clientCert) lines.push(`SSLProxyMachineCertificateFile "${tls.clientCert.certFile}"`);
  return lines;
}
