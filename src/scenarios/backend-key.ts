/**
 * The `backend:` key of a scenario: a real application server plays the upstream. Its schema,
 * the defaults, and the fault-like definition a backend scenario carries so that reports, shards
 * and skip reasons treat it as they treat any scenario (its `fault` is the backend's kind).
 */
import { z } from 'zod';
import { describeBackend, type BackendSpec } from '../backends/backend.js';
import type { ExchangeFaultDef } from '../faults/fault.js';

const seconds = (what: string) => z.number().int(`${what} is whole seconds`).min(0).max(3600);

export const backendSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('gunicorn'),
    timeout: seconds('gunicorn --timeout').min(1, 'gunicorn --timeout is at least 1 (second)'),
    app: z.enum(['slow', 'slow-body']).optional(),
    sleepMs: z.number().int().min(0).max(60_000).optional(),
    intervalMs: z.number().int().min(10).max(60_000).optional(),
  }),
  z.strictObject({
    kind: z.literal('php-fpm'),
    maxChildren: z.number().int().min(1).max(64).optional(),
    requestTerminateTimeout: seconds('request_terminate_timeout').optional(),
    backlog: z.number().int().min(0).max(4096).optional(),
    script: z.enum(['slow', 'slow-body']).optional(),
    sleepMs: z.number().int().min(0).max(60_000).optional(),
    intervalMs: z.number().int().min(10).max(60_000).optional(),
    listen: z.enum(['unix', 'tcp']).optional(),
    stopMaster: z.boolean().optional(),
  }),
]);

export function backendSpec(d: z.infer<typeof backendSchema>): BackendSpec {
  if (d.kind === 'gunicorn') return { kind: 'gunicorn', timeout: d.timeout, app: d.app ?? 'slow', sleepMs: d.sleepMs ?? 3000, intervalMs: d.intervalMs ?? 300 };
  return {
    kind: 'php-fpm',
    maxChildren: d.maxChildren ?? 1,
    requestTerminateTimeout: d.requestTerminateTimeout ?? 0,
    backlog: d.backlog ?? 511,
    script: d.script ?? 'slow',
    sleepMs: d.sleepMs ?? 0,
    intervalMs: d.intervalMs ?? 300,
    listen: d.listen ?? 'unix',
    stopMaster: d.stopMaster ?? false,
  };
}

/**
 * What a backend scenario carries as its fault: an exchange "fault" named after the kind, with no
 * steps (nothing of the chaos upstream runs it), speaking the backend's protocol, so a gateway
 * without a FastCGI upstream skips a php-fpm scenario as it skips any FastCGI one.
 */
export function backendFaultDef(spec: BackendSpec): ExchangeFaultDef {
  return {
    id: spec.kind,
    layer: 'exchange',
    ...(spec.kind === 'php-fpm' ? { protocol: 'fastcgi' as const } : {}),
    summary: describeBackend(spec),
    explain: 'a real application server from Debian, started by badgateway for this scenario alone and stopped with it',
    steps: [],
  };
}
