/**
 * The paths every rendered config and every probe agree on: one place, so an adapter, the
 * harness and a user's tooling cannot drift apart.
 */

/** Answers 200 once the gateway routes requests (served by the gateway itself, never the upstream). */
export const READY_PATH = '/__badgateway/ready';

/** The path prefix a scenario's route serves: `/s/<id>/` and everything below it. */
export function routePath(scenarioId: string): string {
  return `/s/${scenarioId}/`;
}
