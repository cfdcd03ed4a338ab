/** What `serve --suite` serves and GET /api/suite answers; `run --upstream-control` compares it with the suite it runs (src/harness/external.ts). */
/** The suite as an upstream serves it: what `--upstream-control` compares (GET /api/suite). */
export interface ServedSuite {
  readonly digest: string;
  readonly healthPath: string;
  readonly scenarios: ReadonlyArray<{ readonly id: string; readonly fault: string; readonly params?: Readonly<Record<string, unknown>> }>;
  readonly listenerFaults: readonly string[];
}
