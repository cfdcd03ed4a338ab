/** Where a gateway runs. Starting returns a RunningGateway; closing it leaves nothing behind. */
import type { GatewayAdapter, RenderedConfig } from '../gateways/gateway.js';

export interface StartInput {
  readonly adapter: GatewayAdapter;
  readonly config: RenderedConfig;
  /** The directory for everything the gateway writes; the runtime owns and removes it. */
  readonly prefix: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** A path that answers 200 once the gateway routes requests; undefined: wait for the port to accept. */
  readonly readyPath?: string;
  readonly startTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Container runtime: the image (default: the adapter's). */
  readonly image?: string;
  /** Container runtime: host directories to mount at the same path (e.g. a unix socket's folder). */
  readonly extraMounts?: readonly string[];
}

/** How a gateway ended when it exited on its own (a crash), not because it was closed. */
export interface GatewayExit {
  /** Its exit code, when it exited rather than died of a signal. */
  readonly code: number | null;
  /** The signal that ended it (SIGSEGV, SIGKILL, ...): for a container, read from an exit code above 128. */
  readonly signal: string | null;
  /** The last lines of its logs and output (stderr) as it died. */
  readonly lastLogLines: readonly string[];
}

export interface RunningGateway extends AsyncDisposable {
  readonly adapter: GatewayAdapter;
  /** The runtime's kind: its id in RUNTIMES (src/runtimes/index.ts). */
  readonly runtime: string;
  readonly version: string | undefined;
  /** What ran: the binary's path (process) or the image's name (container), for reports. */
  readonly source: string;
  readonly host: string;
  readonly port: number;
  readonly prefix: string;
  /** Everything the gateway has logged so far (its log files under the prefix). */
  readLogs(): Promise<string>;
  /** The last lines of its logs and output, for error messages. */
  logTail(lines?: number): Promise<string>;
  close(): Promise<void>;
  /**
   * Settles when the gateway exits on its own (it crashed, or was killed from outside): never
   * after close() or abandon() began, so an exit here is always a finding.
   */
  readonly exited: Promise<GatewayExit>;
  /** The process id of the gateway's main process (process runtime), for tests that kill it. */
  readonly pid?: number;
  /**
   * The last resort when this process is exiting and cannot wait for close(): synchronous,
   * it kills the gateway at once and removes its prefix. Does nothing once close() has finished.
   */
  abandon(): void;
}

export interface Availability {
  readonly ok: boolean;
  /** Why not, and what to install or start. */
  readonly why?: string;
  readonly version?: string;
  /** Container runtime: the image it will run. */
  readonly image?: string;
}

export interface Runtime {
  /** Its id in RUNTIMES (src/runtimes/index.ts), and its file's name. */
  readonly kind: string;
  available(adapter: GatewayAdapter, image?: string): Promise<Availability>;
  start(input: StartInput): Promise<RunningGateway>;
}
