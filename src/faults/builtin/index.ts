/**
 * The registry of built-in faults: one file per fault, one line per file here.
 * src/faults/registry.test.ts fails when a file in this folder is not listed.
 */
import type { FaultDef } from '../fault.js';
import healthy from './healthy.js';
import emptyReply from './empty-reply.js';
import resetAfterRequest from './reset-after-request.js';
import neverRespond from './never-respond.js';
import slowResponse from './slow-response.js';
import garbageStatusLine from './garbage-status-line.js';
import http09Reply from './http09-reply.js';
import headerNoColon from './header-no-colon.js';
import headerSpaceBeforeColon from './header-space-before-colon.js';
import headerNulByte from './header-nul-byte.js';
import headerControlChar from './header-control-char.js';
import headerTooBig from './header-too-big.js';
import tooManyHeaders from './too-many-headers.js';
import duplicateContentLength from './duplicate-content-length.js';
import contentLengthAndChunked from './content-length-and-chunked.js';
import invalidChunkSize from './invalid-chunk-size.js';
import partialHeadThenClose from './partial-head-then-close.js';
import bodyCutFinLength from './body-cut-fin-length.js';
import bodyCutResetLength from './body-cut-reset-length.js';
import bodyCutFinChunked from './body-cut-fin-chunked.js';
import bodyCutResetChunked from './body-cut-reset-chunked.js';
import bodyShortHoldOpen from './body-short-hold-open.js';
import slowHeaders from './slow-headers.js';
import slowBody from './slow-body.js';
import interim100 from './interim-100.js';
import interim103 from './interim-103.js';
import tlsToPlain from './tls-to-plain.js';
import http2ToPlain from './http2-to-plain.js';
import keepaliveIdleClose from './keepalive-idle-close.js';
import keepaliveStale from './keepalive-stale.js';
import websocketRefused from './websocket-refused.js';
import websocket101NoUpgrade from './websocket-101-no-upgrade.js';
import websocket101ThenReset from './websocket-101-then-reset.js';
import connectRefused from './connect-refused.js';
import acceptQueueFull from './accept-queue-full.js';
import fcgiPoolFull from './fcgi-pool-full.js';
import resetOnAccept from './reset-on-accept.js';
import closeOnAccept from './close-on-accept.js';
import fcgiHealthy from './fcgi-healthy.js';
import fcgiStdoutCutClose from './fcgi-stdout-cut-close.js';
import fcgiNoEndRequest from './fcgi-no-end-request.js';
import fcgiEndWithoutStdout from './fcgi-end-without-stdout.js';
import fcgiBadVersion from './fcgi-bad-version.js';
import fcgiBadType from './fcgi-bad-type.js';
import fcgiLengthBeyondData from './fcgi-length-beyond-data.js';
import fcgiPrimaryScriptUnknown from './fcgi-primary-script-unknown.js';
import fcgiStderrFlood from './fcgi-stderr-flood.js';
import fcgiInvalidHeaderLine from './fcgi-invalid-header-line.js';
import fcgiStatusGarbage from './fcgi-status-garbage.js';
import fcgiLargeResponse from './fcgi-large-response.js';
import fcgiResetAfterParams from './fcgi-reset-after-params.js';
import fcgiNeverRespond from './fcgi-never-respond.js';
import fcgiHugeHeader from './fcgi-huge-header.js';
import h2Healthy from './h2-healthy.js';
import grpcHealthy from './grpc-healthy.js';
import tlsHealthy from './tls-healthy.js';
import tlsExpired from './tls-expired.js';
import tlsNotYetValid from './tls-not-yet-valid.js';
import tlsWrongName from './tls-wrong-name.js';
import tlsUnknownCa from './tls-unknown-ca.js';
import tlsSelfSigned from './tls-self-signed.js';
import tlsSniRequired from './tls-sni-required.js';
import tlsOnly10 from './tls-only-1-0.js';
import tlsOnly13 from './tls-only-1-3.js';
import tlsNoSharedCipher from './tls-no-shared-cipher.js';
import tlsClientCertRequired from './tls-client-cert-required.js';
import tlsClientCertRefused from './tls-client-cert-refused.js';
import tlsHandshakeStall from './tls-handshake-stall.js';
import tlsHandshakeReset from './tls-handshake-reset.js';
import tlsCutCloseNotify from './tls-cut-close-notify.js';
import tlsCutNoCloseNotify from './tls-cut-no-close-notify.js';
import dnsOk from './dns-ok.js';
import dnsNxdomain from './dns-nxdomain.js';
import dnsServfail from './dns-servfail.js';
import dnsRefused from './dns-refused.js';
import dnsNodata from './dns-nodata.js';
import dnsSilent from './dns-silent.js';
import dnsFlapping from './dns-flapping.js';

export const BUILTIN_FAULTS: readonly FaultDef[] = [
  healthy,
  emptyReply,
  resetAfterRequest,
  neverRespond,
  slowResponse,
  garbageStatusLine,
  http09Reply,
  headerNoColon,
  headerSpaceBeforeColon,
  headerNulByte,
  headerControlChar,
  headerTooBig,
  tooManyHeaders,
  duplicateContentLength,
  contentLengthAndChunked,
  invalidChunkSize,
  partialHeadThenClose,
  bodyCutFinLength,
  bodyCutResetLength,
  bodyCutFinChunked,
  bodyCutResetChunked,
  bodyShortHoldOpen,
  slowHeaders,
  slowBody,
  interim100,
  interim103,
  tlsToPlain,
  http2ToPlain,
  keepaliveIdleClose,
  keepaliveStale,
  websocketRefused,
  websocket101NoUpgrade,
  websocket101ThenReset,
  fcgiHealthy,
  fcgiStdoutCutClose,
  fcgiNoEndRequest,
  fcgiEndWithoutStdout,
  fcgiBadVersion,
  fcgiBadType,
  fcgiLengthBeyondData,
  fcgiPrimaryScriptUnknown,
  fcgiStderrFlood,
  fcgiInvalidHeaderLine,
  fcgiStatusGarbage,
  fcgiLargeResponse,
  fcgiResetAfterParams,
  fcgiNeverRespond,
  fcgiHugeHeader,
  h2Healthy,
  grpcHealthy,
  connectRefused,
  acceptQueueFull,
  resetOnAccept,
  closeOnAccept,
  fcgiPoolFull,
  tlsHealthy,
  tlsExpired,
  tlsNotYetValid,
  tlsWrongName,
  tlsUnknownCa,
  tlsSelfSigned,
  tlsSniRequired,
  tlsOnly10,
  tlsOnly13,
  tlsNoSharedCipher,
  tlsClientCertRequired,
  tlsClientCertRefused,
  tlsHandshakeStall,
  tlsHandshakeReset,
  tlsCutCloseNotify,
  tlsCutNoCloseNotify,
  dnsOk,
  dnsNxdomain,
  dnsServfail,
  dnsRefused,
  dnsNodata,
  dnsSilent,
  dnsFlapping,
];
