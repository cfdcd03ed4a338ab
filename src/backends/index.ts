/** Starting a scenario's backend by kind. */
import type { BackendSpec, RunningBackend } from './backend.js';
import { startGunicorn } from './gunicorn.js';
import { startPhpFpm } from './php-fpm.js';

export * from './backend.js';

/** Starts the backend a spec describes in `dir` (its own; removed when it closes). */
export function startBackend(spec: BackendSpec, dir: string): Promise<RunningBackend & { readonly scriptFilename?: string }> {
  return spec.kind === 'gunicorn' ? startGunicorn(spec, dir) : startPhpFpm(spec, dir);
}
