/** The registry of gateway adapters: one file per gateway, one line per file here. */
import { closest, InputError } from '../errors.js';
import type { GatewayAdapter } from './gateway.js';
import haproxy from './haproxy.js';
import apache from './apache.js';
import caddy from './caddy.js';
import nginx from './nginx.js';
import envoy from './envoy.js';
import traefik from './traefik.js';
import varnish from './varnish.js';
import httpProxyMiddleware from './http-proxy-middleware.js';
import fastifyHttpProxy from './fastify-http-proxy.js';
import alb from './alb.js';
import cloudflare from './cloudflare.js';

export const GATEWAYS: readonly GatewayAdapter[] = [nginx, haproxy, caddy, apache, envoy, traefik, varnish, httpProxyMiddleware, fastifyHttpProxy, alb, cloudflare];

export function gatewayById(id: string): GatewayAdapter {
  const g = GATEWAYS.find((x) => x.id === id);
  if (g) return g;
  throw new InputError('BG_UNKNOWN_GATEWAY', `unknown gateway "${id}". Known: ${GATEWAYS.map((x) => x.id).join(', ')}${closest(id, GATEWAYS.map((x) => x.id), 1).length ? ` (closest: ${closest(id, GATEWAYS.map((x) => x.id), 1)[0]})` : ''}.`);
}
