#!/usr/bin/env node
/**
 * Runs every benchmark, bench/*.mjs except this file, one after another (never
 * in parallel: they would measure each other). Arguments are passed to each
 * benchmark, e.g. `npm run bench -- --duration 3s --rounds 5`.
 *
 * Benchmarks report; they do not fail on their numbers. This exits 1 only if a
 * benchmark could not run (it exited non-zero), after running the others.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

const files = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== self)
  .sort();

if (files.length === 0) {
  console.log('no benchmarks in bench/');
  process.exit(0);
}

let current;
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true;
    // The benchmark kills its own servers on SIGINT/SIGTERM.
    if (current && current.exitCode === null) current.kill(sig);
  });
}

const outcomes = [];
for (const file of files) {
  if (interrupted) break;
  console.log(`\n=== ${file} ${args.join(' ')}`.trimEnd());
  const started = performance.now();
  current = spawn(process.execPath, [join(here, file), ...args], { stdio: 'inherit' });
  let code;
  let signal;
  try {
    [code, signal] = await once(current, 'exit');
  } catch (err) {
    code = 1;
    console.error(`cannot start ${file}: ${err.message}`);
  }
  outcomes.push({ file, code, signal, seconds: (performance.now() - started) / 1000 });
}

console.log('\n=== summary');
for (const o of outcomes) {
  const status =
    o.code === 0 ? 'ok' : o.signal ? `killed (${o.signal})` : o.code === 130 || o.code === 143 ? 'interrupted' : `could not run (exit ${o.code})`;
  console.log(`  ${o.file.padEnd(36)} ${status.padEnd(24)} ${o.seconds.toFixed(1)}s`);
}
if (interrupted) process.exit(130);
process.exit(outcomes.every((o) => o.code === 0) ? 0 : 1);
