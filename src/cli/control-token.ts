/**
 * Where `serve` takes the control API's token from. A command-line argument is in the process
 * list, where every local user can read it (`ps -ef`, /proc/<pid>/cmdline), so the token comes
 * from the environment or a file; `--control-token` still works, with a warning.
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';

export const TOKEN_ENV = 'BADGATEWAY_CONTROL_TOKEN';

export interface TokenSources {
  readonly flag?: string;
  readonly file?: string;
  readonly env?: string;
}

/** The token, or undefined for none; `warn` gets one line per thing the user should change. */
export function controlToken(src: TokenSources, warn: (line: string) => void): string | undefined {
  if (src.flag !== undefined && src.file !== undefined) {
    throw new InputError('BG_BAD_FLAG', `--control-token and --control-token-file were both given; give the token once, preferably with --control-token-file FILE or the environment variable ${TOKEN_ENV}.`);
  }
  if (src.flag !== undefined) {
    warn(`warning: --control-token puts the token in the process list, where every local user can read it (ps); set ${TOKEN_ENV} or use --control-token-file FILE instead.`);
    return src.flag;
  }
  if (src.file !== undefined) return tokenFromFile(src.file, warn);
  return src.env;
}

function tokenFromFile(file: string, warn: (line: string) => void): string {
  const at = `--control-token-file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file. Write the token to it first (e.g. `openssl rand -hex 32 > FILE && chmod 600 FILE`) or give the right path.'
        : code === 'EACCES' || code === 'EPERM'
          ? 'this user may not read it. Make it readable by the user that runs badgateway (and only by it: chmod 600).'
          : code === 'EISDIR'
            ? 'that is a directory; give the file that holds the token.'
            : `cannot be read (${(err as Error).message}).`;
    throw new InputError('BG_FILE_UNREADABLE', `${at}: ${why}`);
  }
  const first = text.split(/\r?\n/, 1)[0]!.trim();
  if (first === '') {
    throw new InputError('BG_CONTROL_TOKEN_EMPTY', `${at}: ${text.trim() === '' ? 'the file is empty' : 'its first line is blank'}; put the token on the first line (the rest of the file is ignored).`);
  }
  if (process.platform === 'linux') {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o044) {
      warn(`warning: ${at} is readable by ${mode & 0o004 ? 'every user' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 ${file} so only its owner can read the token.`);
    }
  }
  return first;
}
