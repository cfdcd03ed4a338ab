/**
 * Input files with limits (README "Limits"): size, values, nesting and aliases of scenario,
 * fault and list files. Every refusal is a file:line:col message and exit 2, never a stack.
 * The CLI cases run the built CLI: `npm run build` first.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync, createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseYaml, MAX_INPUT_BYTES, MAX_INPUT_VALUES } from '../../src/yaml-source.js';
import { runCli, type CliResult } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bg-limits-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Nine levels of nine aliases each: a few hundred bytes that expand to 9^9 strings. */
function laughs(indent = ''): string {
  const lines = [`${indent}a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]`];
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) lines.push(`${indent}${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A user error: exit 2, one message, no stack trace and no "internal error". */
function expectUserError(r: CliResult, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.code).toBe(2);
}

function parseError(text: string, name = 'in.yaml', limits = {}): { code?: string; message: string } {
  try {
    parseYaml(text, name, limits);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the YAML to be refused');
}

describe('aliases', () => {
  test('a billion-laughs faults file: file:line:col at the alias that passes the limit, exit 2 (run and serve)', async () => {
    const bomb = file('bomb.yaml', laughs());
    for (const args of [['run', '--faults-file', bomb, '--gateway', 'nginx'], ['serve', '--faults-file', bomb]]) {
      const r = await runCli(args, {}, 15_000);
      expectUserError(r, new RegExp(`badgateway: ${bomb.replace(/[.\\/]/g, '\\$&')}:\\d+:\\d+: alias \\*[a-i] repeats \\d+ values .*over the limit of ${MAX_INPUT_VALUES} values`));
    }
  });

  test('a billion-laughs scenario in a --suite folder: exit 2 before any gateway starts', async () => {
    const suite = join(dir, 'suite');
    mkdirSync(suite);
    writeFileSync(join(suite, 'fine.yaml'), 'description: a fine one\nfault: healthy\nexpect:\n  nginx: { status: 200 }\n');
    writeFileSync(join(suite, 'laughs.yaml'), `description: laughs\nfault: healthy\nexpect:\n  nginx: { status: 200 }\nx:\n${laughs('  ')}`);
    const r = await runCli(['run', '--suite', suite, '--gateway', 'nginx'], {}, 15_000);
    expectUserError(r, /laughs\.yaml:\d+:\d+: alias \*[a-i] repeats/);
  });

  test('the expansion is counted exactly: the alias that crosses the limit is the one named', () => {
    expect(parseError(laughs(), 'bomb.yaml')).toMatchObject({
      code: 'BG_YAML_ALIAS',
      // a..d expand to 10, 91, 820 and 7381 values: the second *d on line 5 passes 20,000.
      message: expect.stringMatching(/^bomb\.yaml:5:12: alias \*d repeats 7381 values/),
    });
  });

  test('a long string repeated by aliases counts as its bytes', () => {
    const text = `id: x\nsteps:\n  - write: &s "${'a'.repeat(200_000)}"\n  - write: [*s, *s, *s, *s, *s, *s]\n`;
    expect(parseError(text, 'rep.yaml')).toMatchObject({
      code: 'BG_YAML_ALIAS',
      message: expect.stringMatching(new RegExp(`^rep\\.yaml:4:\\d+: alias \\*s repeats 1 value \\(200002 bytes of text\\) and brings the file over the limit of ${MAX_INPUT_BYTES} bytes`)),
    });
  });

  test('a circular alias and an alias to nothing are refused where they are', () => {
    expect(parseError('a: &loop\n  - 1\n  - *loop\n', 'loop.yaml')).toMatchObject({
      code: 'BG_YAML_ALIAS',
      message: expect.stringMatching(/^loop\.yaml:3:5: alias \*loop is inside the node its anchor &loop marks/),
    });
    expect(parseError('a: 1\nb: *nothing\n', 'dangling.yaml')).toMatchObject({
      code: 'BG_YAML_ALIAS',
      message: expect.stringMatching(/^dangling\.yaml:2:4: alias \*nothing names no anchor/),
    });
  });

  test('a circular alias in a faults file is exit 2, not a stack overflow', async () => {
    const r = await runCli(['faults', '--faults-file', file('loop.yaml', 'id: loop\nsteps: &s\n  - close\n  - write: *s\n')], {}, 15_000);
    expectUserError(r, /loop\.yaml:4:12: alias \*s is inside the node/);
  });

  test('hand-written alias use stays legal: one response shared by two faults', async () => {
    const shared = file(
      'shared.yaml',
      'faults:\n' +
        '  - id: teapot-a\n    steps:\n      - respond: &teapot { status: 418, body: "short and stout" }\n' +
        '  - id: teapot-b\n    steps:\n      - read: body\n      - respond: *teapot\n',
    );
    const r = await runCli(['faults', '--faults-file', shared], {}, 15_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/teapot-a/);
    expect(r.stdout).toMatch(/teapot-b/);
    // 150 uses of one small anchor: past the yaml library's own estimate of 100, well within ours.
    const many = `a: &v 1\nb: [${Array(150).fill('*v').join(', ')}]\n`;
    expect((parseYaml(many, 'many.yaml').data as { b: number[] }).b).toHaveLength(150);
  });
});

describe('size', () => {
  test('a 50 MB faults file is refused at once, by its size, before it is read', async () => {
    const big = join(dir, 'big.yaml');
    // Real YAML, not a sparse file: read and parsed, it would take the process out of heap.
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(big);
      out.on('error', reject);
      const line = 'x: [' + '1, '.repeat(10_000) + ']\n';
      let written = 0;
      const write = () => {
        while (written < 50 * 1024 * 1024) {
          written += line.length;
          if (!out.write(line.replace('x', `k${written}`))) return void out.once('drain', write);
        }
        out.end(resolve);
      };
      write();
    });
    const started = Date.now();
    const r = await runCli(['serve', '--faults-file', big], {}, 15_000);
    expectUserError(r, new RegExp(`badgateway: ${big.replace(/[.\\/]/g, '\\$&')} is \\d{8} bytes, over the limit of ${MAX_INPUT_BYTES} bytes for a scenario, fault or list file.*BADGATEWAY_MAX_INPUT_BYTES`));
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  test('the limit is configurable; a file that does not say its size (/dev/zero) is cut at the limit', async () => {
    const fault = file('small.yaml', `id: small\nsteps:\n  - write: "${'a'.repeat(300)}"\n  - close\n`);
    const low = await runCli(['faults', '--faults-file', fault], { BADGATEWAY_MAX_INPUT_BYTES: '100' }, 15_000);
    expectUserError(low, /small\.yaml is 3\d\d bytes, over the limit of 100 bytes/);
    const ok = await runCli(['faults', '--faults-file', fault], { BADGATEWAY_MAX_INPUT_BYTES: '1000' }, 15_000);
    expect(ok.code).toBe(0);
    const bad = await runCli(['faults', '--faults-file', fault], { BADGATEWAY_MAX_INPUT_BYTES: 'lots' }, 15_000);
    expectUserError(bad, /BADGATEWAY_MAX_INPUT_BYTES="lots" is not a positive whole number of bytes/);
    const zero = await runCli(['faults', '--faults-file', '/dev/zero'], {}, 15_000);
    expectUserError(zero, new RegExp(`/dev/zero is more than ${MAX_INPUT_BYTES} bytes, over the limit`));
  });

  test('a list file is held to the same limit', async () => {
    const list = file('suite.txt', '# scenarios\n' + 'scenarios/none.yaml\n'.repeat(2000));
    const r = await runCli(['run', '--suite', list], { BADGATEWAY_MAX_INPUT_BYTES: '4096' }, 15_000);
    expectUserError(r, /suite\.txt is \d+ bytes, over the limit of 4096 bytes/);
  });

  test('text given to the library directly is held to it too', () => {
    expect(parseError('a: 1\n', 'tiny.yaml', { maxBytes: 3 })).toMatchObject({ code: 'BG_FILE_TOO_LARGE', message: expect.stringMatching(/^tiny\.yaml is 5 bytes, over the limit of 3 bytes/) });
  });
});

describe('values and nesting', () => {
  test('more values than the limit is refused while lexing, at the value that passes it', () => {
    const text = 'list: [' + '1, '.repeat(MAX_INPUT_VALUES + 10) + ']\n';
    expect(parseError(text, 'many.yaml')).toMatchObject({
      code: 'BG_YAML_LIMIT',
      // "list" is value 1, the flow list value 2; the 19,999th item is the 20,001st value.
      message: expect.stringMatching(new RegExp(`^many\\.yaml:1:${8 + 3 * (MAX_INPUT_VALUES - 2)}: more than ${MAX_INPUT_VALUES} YAML values`)),
    });
    expect(parseError('a: [1, 2, 3, 4]\n', 'few.yaml', { maxValues: 4 }).message).toMatch(/^few\.yaml:1:11: more than 4 YAML values/);
  });

  test('deep nesting is refused before the parser recurses into it', async () => {
    expect(parseError('a: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n', 'deep.yaml')).toMatchObject({ code: 'BG_YAML_LIMIT', message: expect.stringMatching(/^deep\.yaml:1:\d+: nested deeper than the limit/) });
    // Block nesting: a thousand levels of "- " overflowed the call stack while composing.
    const block = Array.from({ length: 1000 }, (_, i) => ' '.repeat(i) + '- ').join('\n') + 'x\n';
    const r = await runCli(['faults', '--faults-file', file('deep.yaml', 'id: deep\nsteps:\n' + block)], {}, 15_000);
    expectUserError(r, /deep\.yaml:\d+:\d+: nested deeper than the limit/);
  });

  test('a built-in scenario is far inside every limit', () => {
    const text = 'description: ok\nfault: { id: slow-body, params: { intervalMs: 10 } }\nexpect:\n  nginx: { status: [200, 502], reason: none }\n';
    expect(parseYaml(text, 'ok.yaml').data).toMatchObject({ fault: { id: 'slow-body' } });
  });
});
