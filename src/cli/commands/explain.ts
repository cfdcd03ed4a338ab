/** `badgateway explain`: one line, each line on stdin (`-`), or a whole log grouped by reason (`--file`). */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { explainLine, unknownLineMessage, type Explanation } from '../../gateways/explain.js';
import type { GatewayAdapter, ReasonInfo } from '../../gateways/gateway.js';
import { gatewayById, GATEWAYS } from '../../gateways/index.js';
import { reproduceCommand } from '../../gateways/profile.js';
import { paint, useColor, type Style } from '../../report/terminal.js';

/** Log lines grouped by what they mean, for `explain --file`. */
export interface LogDigest {
  /** Lines read, blank ones not counted. */
  readonly lines: number;
  /** One group per gateway and reason, the most frequent first. */
  readonly groups: ReadonlyArray<{ readonly gateway: string; readonly info: ReasonInfo; readonly count: number; readonly example: string }>;
  /** Lines no adapter gives a reason for (access-log lines, notices, other errors). */
  readonly unrecognised: number;
}

/** Folds log lines into a digest, one pass, keeping one example line per group. */
export async function digestLog(lines: AsyncIterable<string> | Iterable<string>, gateways: readonly GatewayAdapter[] = GATEWAYS): Promise<LogDigest> {
  const groups = new Map<string, { gateway: string; info: ReasonInfo; count: number; example: string }>();
  let total = 0;
  let unrecognised = 0;
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    total++;
    const ex = explainLine(line, gateways);
    if (!ex) {
      unrecognised++;
      continue;
    }
    const key = `${ex.gateway}\0${ex.info.reason}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { gateway: ex.gateway, info: ex.info, count: 1, example: line });
  }
  return { lines: total, groups: [...groups.values()].sort((a, b) => b.count - a.count || a.info.reason.localeCompare(b.info.reason)), unrecognised };
}

/** Lines of a file, or of stdin for `-`; a file that cannot be read is a one-paragraph error before anything is printed. */
async function linesOf(source: string): Promise<AsyncIterable<string>> {
  if (source === '-') {
    if (process.stdin.isTTY) process.stderr.write('badgateway: reading log lines from stdin; end with Ctrl-D.\n');
    return createInterface({ input: process.stdin, crlfDelay: Infinity });
  }
  const st = await stat(source).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) {
    throw new InputError('BG_FILE_UNREADABLE', `cannot read --file ${source}: ${st.code === 'ENOENT' ? 'no such file' : st.code ?? st.message}. Give the path of a gateway's log file, or - to read lines from stdin.`);
  }
  if (st.isDirectory()) throw new InputError('BG_FILE_UNREADABLE', `--file ${source} is a folder. Give one log file (e.g. ${source.replace(/\/$/, '')}/error.log), or - to read lines from stdin.`);
  const stream = createReadStream(source, 'utf8');
  // An error after opening (a permission, a read failure) must reach the reader as an error, not a crash.
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('ready', () => resolve());
    stream.once('error', reject);
  });
  await opened.catch((err: NodeJS.ErrnoException) => {
    throw new InputError('BG_FILE_UNREADABLE', `cannot read --file ${source}: ${err.code ?? err.message}. Check its permissions, or pipe it in: ... | badgateway explain -.`);
  });
  return createInterface({ input: stream, crlfDelay: Infinity });
}

function shorten(line: string, max = 200): string {
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

function explanationText(ex: Explanation, p: (style: Style, text: string) => string): string[] {
  const i = ex.info;
  return [
    `${p('bold', i.reason)}  (${ex.gateway})`,
    `  ${i.meaning}`,
    '',
    p('cyan', 'Likely causes'),
    ...i.causes.map((c) => `  - ${c}`),
    '',
    p('cyan', 'Reproduce it'),
    ...(i.scenarios.length ? i.scenarios.map((s) => `  ${reproduceCommand(gatewayById(ex.gateway), s)}`) : ['  (no built-in scenario yet)']),
    '',
    p('cyan', 'Directives that govern it'),
    ...(i.directives.length ? i.directives.map((d) => `  - ${d}`) : ['  (none: the upstream must be fixed)']),
  ];
}

export function digestText(d: LogDigest, source: string, color: boolean): string {
  const p = paint(color);
  const known = d.lines - d.unrecognised;
  const out = [`${source === '-' ? 'stdin' : source}: ${d.lines} line${d.lines === 1 ? '' : 's'}, ${known} with a reason badgateway knows, ${d.unrecognised} not recognised`, ''];
  const width = Math.max(0, ...d.groups.map((g) => String(g.count).length));
  for (const g of d.groups) {
    out.push(`${String(g.count).padStart(width)}  ${p('bold', g.info.reason)}  (${g.gateway})`);
    const pad = ' '.repeat(width + 2);
    out.push(`${pad}${g.info.meaning}`, `${pad}${p('dim', `e.g. ${shorten(g.example)}`)}`);
    if (g.info.scenarios.length) out.push(`${pad}${p('dim', `reproduce: ${reproduceCommand(gatewayById(g.gateway), g.info.scenarios[0]!)}`)}`);
    out.push('');
  }
  if (d.groups.length) out.push(p('dim', 'Causes and directives for one of them: badgateway explain \'<the example line>\''));
  else out.push(`No line has a reason badgateway knows. ${unknownLineMessage().replace(/^no gateway adapter recognises this line\. /, '')}`);
  return out.join('\n') + '\n';
}

export function explainCommand(y: Argv) {
  return y.command(
    'explain [line]',
    'Explain a gateway error-log line (or every line on stdin, or a whole log grouped by reason): the normalized reason, likely causes, the scenario that reproduces it, the directives that govern it',
    (a) =>
      a
        .positional('line', { describe: 'an error-log line, quoted; - reads lines from stdin and explains each' })
        .option('file', { type: 'string', describe: 'a log file (or - for stdin): its lines grouped by reason, with a count, one example and the meaning of each' })
        .option('json', { type: 'boolean', default: false, describe: 'JSON: one object (with -, one per line)' })
        .option('gateway', { type: 'string', describe: `read the line as this gateway's only (${GATEWAYS.map((g) => g.id).join(', ')}); by default the first adapter that knows it` })
        .example('$0 explain "upstream prematurely closed connection while reading response header from upstream"', '')
        .example('tail -n 20 /var/log/nginx/error.log | $0 explain -', 'each line explained')
        .example('$0 explain --file /var/log/nginx/error.log', 'a whole log: how many lines of each reason'),
    async (argv) => {
      const only = argv.gateway === undefined ? undefined : gatewayById(argv.gateway);
      const gateways = only ? [only] : GATEWAYS;
      // No `type: 'string'` on the positional: yargs turns a lone `-` into '' then, the same as an
      // empty argument; untyped, `-` arrives as `true`, which nothing else gives.
      let line = argv.line === true ? '-' : argv.line === undefined ? undefined : String(argv.line);
      let file = argv.file;
      // The same for `--file -`: the option gets '' and the `-` lands on the positional.
      if (file === '' && line === '-') [file, line] = ['-', undefined];
      const color = useColor();
      if (file !== undefined) {
        if (line !== undefined) throw new InputError('BG_USAGE', `explain takes a line or --file, not both. Run \`badgateway explain --file ${file}\` for the log, or \`badgateway explain '<line>'\` for one line.`);
        if (file === '') throw new InputError('BG_USAGE', 'explain --file needs a path: a gateway log file, or - for stdin.');
        const d = await digestLog(await linesOf(file), gateways);
        if (argv.json) {
          const reasons = d.groups.map((g) => ({ reason: g.info.reason, gateway: g.gateway, count: g.count, meaning: g.info.meaning, example: g.example, scenarios: g.info.scenarios }));
          process.stdout.write(JSON.stringify({ file: file, lines: d.lines, recognised: d.lines - d.unrecognised, unrecognised: d.unrecognised, reasons }, null, 2) + '\n');
        } else process.stdout.write(digestText(d, file, color));
        return;
      }
      if (line === undefined) {
        throw new InputError('BG_USAGE', 'explain needs a log line: `badgateway explain \'<line>\'` (quoted), `... | badgateway explain -` to explain each line on stdin, or `badgateway explain --file LOG` for a whole log grouped by reason.');
      }
      const p = paint(color);
      if (line === '-') {
        let seen = 0;
        let known = 0;
        for await (const raw of await linesOf('-')) {
          const line = raw.trim();
          if (line === '') continue;
          seen++;
          const ex = explainLine(line, gateways);
          if (ex) known++;
          if (argv.json) {
            process.stdout.write(JSON.stringify(ex ? { line, gateway: ex.gateway, ...ex.info } : { line, reason: null }) + '\n');
            continue;
          }
          const head = p('dim', `${seen > 1 ? '\n' : ''}── ${shorten(line, 160)}`);
          process.stdout.write([head, ...(ex ? explanationText(ex, p) : ['  not recognised: no adapter gives this line a reason'])].join('\n') + '\n');
        }
        if (seen === 0) throw new InputError('BG_USAGE', 'explain - read no line on stdin. Pipe log lines in: tail -n 20 /var/log/nginx/error.log | badgateway explain -');
        // Some lines of a log are no error at all; only a stream with nothing known is a mistake.
        if (known === 0) throw new InputError('BG_UNKNOWN_LOG_LINE', `none of the ${seen} line${seen === 1 ? '' : 's'} on stdin has a reason badgateway knows. ${unknownLineMessage(only).replace(/^(no gateway adapter|the \S+ adapter does not) recognises? this line\. /, '')}`);
        return;
      }
      const ex = explainLine(line, gateways);
      if (!ex) throw new InputError('BG_UNKNOWN_LOG_LINE', unknownLineMessage(only));
      if (argv.json) {
        process.stdout.write(JSON.stringify({ gateway: ex.gateway, ...ex.info }, null, 2) + '\n');
        return;
      }
      process.stdout.write(explanationText(ex, p).join('\n') + '\n');
    },
  );
}
