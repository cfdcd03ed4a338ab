/** Terminal text shared by the console reporter and the CLI: colour only on a TTY and never with NO_COLOR; aligned columns. */

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], magenta: [35, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof codes;

export function paint(on: boolean) {
  return (style: Style, text: string): string => (on ? `\x1b[${codes[style][0]}m${text}\x1b[${codes[style][1]}m` : text);
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: ReadonlyArray<ReadonlyArray<string>>, gap = 2): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c) + gap))).join('').trimEnd())
    .join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}
