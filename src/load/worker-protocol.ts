/** What the main thread and the generator's thread (worker.ts) say to each other; importing worker.ts would run it. */
import type { LoadMixEntry } from './mix.js';

export interface WorkerInput {
  readonly host: string;
  readonly port: number;
  readonly rate: number;
  readonly durationMs: number;
  readonly connections: number;
  readonly timeoutMs: number;
  readonly requests: readonly Uint8Array[];
  readonly mix: readonly LoadMixEntry[];
  readonly seed: number;
}

/** Main → worker: stop now (a Ctrl-C); the worker answers with the partial result. */
export const STOP = 'stop';
