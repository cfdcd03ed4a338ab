/**
 * YAML parsing that keeps positions, so every validation error can say
 * file:line:column. Shared by fault files and scenario files.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError } from './errors.js';

export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** "file:line:column" of the node at `path` (or of its nearest parent that exists); `atKey` points at the last key itself. */
  where(path: ReadonlyArray<string | number>, atKey?: boolean): string;
}

export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lineCounter.linePos(err.pos[0]);
    const first = err.message.split('\n')[0];
    throw new InputError('BG_YAML_SYNTAX', `${file}:${pos.line}:${pos.col}: invalid YAML: ${first}`);
  }
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
  return { file, data: doc.toJS({ maxAliasCount: 100 }), where };
}

export async function readYaml(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError('BG_FILE_UNREADABLE', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}. Check the path.`);
  }
  return parseYaml(text, file);
}
