/**
 * The shapes the control API accepts for the routing table. Only the shape is
 * checked here; whether a fault id or a parameter exists is the upstream's
 * call (setRouting), so both the CLI and the API get the same messages.
 */
import { z } from 'zod';

/** Routes in one table (README "Limits"). */
export const MAX_ROUTES = 256;
/** Weighted entries of one mix. */
export const MAX_MIX_ENTRIES = 256;
/** Fault ids are short kebab-case names; a longer one is refused before any closest-id search. */
export const MAX_FAULT_ID_CHARS = 200;

const params = z.record(z.string(), z.union([z.string(), z.number()]));
const faultId = z.string().min(1, 'a fault id is required').max(MAX_FAULT_ID_CHARS, `a fault id is at most ${MAX_FAULT_ID_CHARS} characters`);

const route = z.strictObject({
  pathPrefix: z.string().startsWith('/', 'a path prefix starts with /').optional(),
  header: z.strictObject({ name: z.string().min(1, 'a header name is required'), value: z.string().optional() }).optional(),
  fault: faultId,
  params: params.optional(),
});

const mixEntry = z.strictObject({
  fault: faultId,
  weight: z.number().min(0, 'a mix weight is >= 0'),
  params: params.optional(),
});

export const routerSpecSchema = z.strictObject({
  // Leaving routes out of a PUT means "no routes", as it would on the command line.
  routes: z.array(route).default([]),
  defaultFault: faultId,
  defaultParams: params.optional(),
  mix: z.array(mixEntry).optional(),
  seed: z.number().int('a seed is an integer').optional(),
  // The FastCGI listeners' own default (a fault with protocol: fastcgi); left out, fcgi-healthy.
  fastcgiDefaultFault: faultId.optional(),
  fastcgiDefaultParams: params.optional(),
  // The HTTP/2 listener's own default (a fault with protocol: h2); left out, h2-healthy.
  h2DefaultFault: faultId.optional(),
  h2DefaultParams: params.optional(),
});

export const defaultFaultSchema = z.strictObject({
  fault: faultId,
  params: params.optional(),
});

export type DefaultFaultBody = z.infer<typeof defaultFaultSchema>;

/** Validate a body; on failure, one line per problem with its path inside the body. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { ok: true; value: T } | { ok: false; message: string } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const problems = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`);
  return { ok: false, message: problems.join('; ') };
}
