/**
 * YAML parsing that keeps positions, so every validation error can say
 * file:line:column. Shared by fault files and scenario files.
 *
 * Input files are hand-written and small, so everything that makes parsing
 * cost memory or time is bounded before it can (README "Limits"): the file's
 * size (checked before it is read), its nesting depth and number of values
 * (counted while lexing, before the document is built), and what aliases
 * repeat (counted exactly, before anything walks the data).
 */
import { open } from 'node:fs/promises';
import { CST, isAlias, isCollection, isMap, isNode, isPair, isSeq, Lexer, LineCounter, parseDocument, Parser, type Document, type Node } from 'yaml';
import { InputError } from './errors.js';

/** A scenario, fault or list file larger than this is refused before it is read. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/**
 * Scalars, lists and maps in one file, every alias counted as the values it repeats. A built-in
 * scenario has about 50; the yaml library needs roughly 1 KiB of heap and 20 µs per value.
 */
export const MAX_INPUT_VALUES = 20_000;
/**
 * Nesting, as the depth of the YAML parser's stack (about two more than the levels a reader sees).
 * Composing the document recurses per level; far deeper input (~1,000 levels) overflows the call
 * stack, and V8 can then abort the whole process instead of throwing.
 */
export const MAX_INPUT_DEPTH = 100;

export const MAX_INPUT_BYTES_ENV = 'BADGATEWAY_MAX_INPUT_BYTES';
export const MAX_INPUT_VALUES_ENV = 'BADGATEWAY_MAX_INPUT_VALUES';

export interface InputLimits {
  /** Default: env BADGATEWAY_MAX_INPUT_BYTES, else MAX_INPUT_BYTES. */
  readonly maxBytes?: number;
  /** Default: env BADGATEWAY_MAX_INPUT_VALUES, else MAX_INPUT_VALUES. */
  readonly maxValues?: number;
}

export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** "file:line:column" of the node at `path` (or of its nearest parent that exists); `atKey` points at the last key itself. */
  where(path: ReadonlyArray<string | number>, atKey?: boolean): string;
}

function limitFromEnv(name: string, fallback: number, unit: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new InputError('BG_BAD_ENV', `${name}="${raw}" is not a positive whole number of ${unit}; unset it to get the default (${fallback}) or give a number, e.g. ${fallback * 4}.`);
  }
  return Number(raw);
}

export function maxInputBytes(limits: InputLimits = {}): number {
  return limits.maxBytes ?? limitFromEnv(MAX_INPUT_BYTES_ENV, MAX_INPUT_BYTES, 'bytes');
}

export function maxInputValues(limits: InputLimits = {}): number {
  return limits.maxValues ?? limitFromEnv(MAX_INPUT_VALUES_ENV, MAX_INPUT_VALUES, 'values');
}

function tooLarge(file: string, size: string, max: number): InputError {
  return new InputError(
    'BG_FILE_TOO_LARGE',
    `${file} is ${size}, over the limit of ${max} bytes for a scenario, fault or list file. These files are written by hand and stay small ` +
      '(a large body is a `repeat:` in a step, not literal text): split the file, or raise the limit with ' +
      `${MAX_INPUT_BYTES_ENV}=<bytes>.`,
  );
}

/**
 * The file's text, refused by its size before a byte is read. The read itself stops one byte
 * past the limit too: a FIFO or /dev/zero has no size to trust, and a file may grow meanwhile.
 */
export async function readInputText(file: string, limits: InputLimits = {}): Promise<string> {
  const max = maxInputBytes(limits);
  const unreadable = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a file' : (err as Error).message;
    return new InputError('BG_FILE_UNREADABLE', `cannot read ${file}: ${why}. Check the path.`);
  };
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw unreadable(err);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw unreadable(Object.assign(new Error(), { code: 'EISDIR' }));
    if (st.isFile() && st.size > max) throw tooLarge(file, `${st.size} bytes`, max);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, max + 1 - total));
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(chunk, 0, chunk.length, null));
      } catch (err) {
        throw unreadable(err);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > max) throw tooLarge(file, `more than ${max} bytes`, max);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Token types that each start one value (a scalar, an alias, a flow list or map). */
const VALUE_TOKENS = new Set(['single-quoted-scalar', 'double-quoted-scalar', 'alias', 'flow-seq-start', 'flow-map-start']);

/**
 * Lexes and parses (concrete syntax only, no document yet) to bound depth and values before the
 * expensive part: building the document costs about 1 KiB and 20 µs per value.
 */
function precheck(text: string, file: string, maxValues: number): void {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  let values = 0;
  // After a scalar marker the next lexeme is the scalar's own text, whatever it looks like.
  let inScalar = false;
  for (const lexeme of new Lexer().lex(text)) {
    const offset = parser.offset;
    if (inScalar) inScalar = false;
    else {
      const type = CST.tokenType(lexeme);
      if (type === 'scalar') inScalar = true;
      if ((type === 'scalar' || (type !== null && VALUE_TOKENS.has(type))) && ++values > maxValues) {
        throw new InputError(
          'BG_YAML_LIMIT',
          `${at(offset)}: more than ${maxValues} YAML values (scalars, lists and maps) in one file; scenario and fault files hold a few hundred. ` +
            `Split the file, or raise the limit with ${MAX_INPUT_VALUES_ENV}=<count>.`,
        );
      }
    }
    for (const _token of parser.next(lexeme)) {
      // The tokens themselves are not needed: parseDocument builds the real document afterwards.
    }
    if (parser.stack.length > MAX_INPUT_DEPTH) {
      throw new InputError(
        'BG_YAML_LIMIT',
        `${at(offset)}: nested deeper than the limit (${MAX_INPUT_DEPTH}); scenario and fault files nest a handful of levels. Flatten the structure.`,
      );
    }
  }
}

/**
 * Measures the document with every alias expanded, as anything walking the data (schema checks,
 * compiling steps into bytes) will, and refuses at the alias where it passes the limits: a
 * "billion laughs" file is a few lines whose aliases multiply, and a long string repeated by
 * aliases turns into that many copies. The rule: with its aliases written out, the file must
 * still fit the same limits (values, and bytes of scalar text). Circular and dangling aliases
 * are refused here too, with their position (the yaml library would build a circular object,
 * or throw without one).
 */
function checkAliases(doc: Document, lines: LineCounter, file: string, max: { values: number; bytes: number }): void {
  const anchors = new Map<string, Node>();
  /** What each anchored node expands to, set once the node has been walked. */
  const sizes = new Map<Node, { values: number; bytes: number }>();
  let values = 0;
  let bytes = 0;
  const fail = (node: Node, message: string): never => {
    const pos = lines.linePos(node.range?.[0] ?? 0);
    throw new InputError('BG_YAML_ALIAS', `${file}:${pos.line}:${pos.col}: ${message}`);
  };
  const walk = (node: unknown): void => {
    if (isPair(node)) {
      walk(node.key);
      walk(node.value);
      return;
    }
    if (isAlias(node)) {
      const name = node.source;
      const target = anchors.get(name);
      if (!target) return fail(node, `alias *${name} names no anchor: an alias repeats a node marked &${name} earlier in the file.`);
      const size = sizes.get(target);
      if (size === undefined) return fail(node, `alias *${name} is inside the node its anchor &${name} marks, so it would repeat itself forever; point it at a node outside it.`);
      values += size.values;
      bytes += size.bytes;
      if (values > max.values || bytes > max.bytes) {
        const what = values > max.values ? `${max.values} values` : `${max.bytes} bytes of text`;
        fail(
          node,
          `alias *${name} repeats ${size.values} value${size.values === 1 ? '' : 's'} (${size.bytes} bytes of text) and brings the file over the limit of ${what} with every alias written out. ` +
            'Aliases that repeat aliases multiply (the "billion laughs" pattern): write the repeated part out or use fewer aliases, ' +
            `or raise the limit with ${values > max.values ? MAX_INPUT_VALUES_ENV : MAX_INPUT_BYTES_ENV}.`,
        );
      }
      return;
    }
    if (!isNode(node)) return;
    // Set on entry, as YAML does: an alias inside this node to its own anchor is circular.
    if (node.anchor) anchors.set(node.anchor, node);
    const start = { values, bytes };
    values += 1;
    if (isCollection(node)) for (const item of node.items) walk(item);
    else if (node.range) bytes += node.range[1] - node.range[0];
    if (node.anchor) sizes.set(node, { values: values - start.values, bytes: bytes - start.bytes });
  };
  walk(doc.contents);
}

export function parseYaml(text: string, file: string, limits: InputLimits = {}): YamlSource {
  const maxBytes = maxInputBytes(limits);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw tooLarge(file, `${bytes} bytes`, maxBytes);
  const maxValues = maxInputValues(limits);
  precheck(text, file, maxValues);
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lineCounter.linePos(err.pos[0]);
    const first = err.message.split('\n')[0];
    throw new InputError('BG_YAML_SYNTAX', `${file}:${pos.line}:${pos.col}: invalid YAML: ${first}`);
  }
  checkAliases(doc, lineCounter, file, { values: maxValues, bytes: maxBytes });
  const where = (path: ReadonlyArray<string | number>, atKey = false): string => {
    let node: unknown = doc.contents;
    let found = node as Node | null;
    for (const [i, key] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(key));
        if (!pair) break;
        node = pair.value ?? pair.key;
        found = atKey && i === path.length - 1 ? (pair.key as Node) : ((pair.value as Node | null) ?? (pair.key as Node));
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        if (!node) break;
        found = node as Node;
      } else break;
    }
    const offset = found?.range?.[0] ?? 0;
    const pos = lineCounter.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  let data: unknown;
  try {
    // checkAliases has bounded the expansion exactly; the library's own estimate stays as a backstop.
    data = doc.toJS({ maxAliasCount: maxValues });
  } catch (err) {
    throw new InputError('BG_YAML_ALIAS', `${file}: ${(err as Error).message}. Use fewer aliases (*name).`);
  }
  return { file, data, where };
}

export async function readYaml(file: string, limits: InputLimits = {}): Promise<YamlSource> {
  return parseYaml(await readInputText(file, limits), file, limits);
}
