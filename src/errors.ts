/**
 * Every error badgateway throws on purpose carries a stable `code`. The CLI maps
 * them to exit codes in one place (src/cli/main.ts); a user error prints its
 * message, never a stack.
 */
export class BadgatewayError extends Error {
  readonly code: string;
  /** True for mistakes of the user (bad input, port in use): printed without a stack. */
  readonly userError: boolean;
  constructor(code: string, message: string, options: { cause?: unknown; userError?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.userError = options.userError ?? true;
  }
}

/** Bad input: a fault file, a scenario, a CLI flag. Exit code 2. */
export class InputError extends BadgatewayError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { ...options, userError: true });
  }
}

/** Something we need could not be started: a port in use, a missing binary. Exit code 2. */
export class StartError extends BadgatewayError {
  readonly logTail: string | undefined;
  constructor(code: string, message: string, options: { cause?: unknown; logTail?: string } = {}) {
    super(code, message, { ...options, userError: true });
    this.logTail = options.logTail;
  }
}

export function isBadgatewayError(err: unknown): err is BadgatewayError {
  return err instanceof BadgatewayError;
}

/** Edit distance, used to suggest the closest ids for an unknown one. */
export function levenshtein(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The ids closest to `wanted`: substring matches first, then by edit distance. */
export function closest(wanted: string, ids: readonly string[], max = 3): string[] {
  const w = wanted.toLowerCase();
  return [...ids]
    .map((id) => ({ id, score: id.includes(w) || w.includes(id) ? 0 : levenshtein(w, id) }))
    .sort((x, y) => x.score - y.score || x.id.localeCompare(y.id))
    .slice(0, max)
    .map((x) => x.id);
}
