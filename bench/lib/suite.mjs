/**
 * Shared by the benchmarks that run suites through the harness: command-line
 * options, and the public API from dist/index.js (with a clear error when it is not built).
 */

/** The value after `--name` on the command line, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** The public API from dist/index.js (runSuite, loadSuite, ...); exits 1 when dist/ is not built. */
export async function loadHarness(bench) {
  try {
    return await import(new URL('../../dist/index.js', import.meta.url));
  } catch (err) {
    console.error(`${bench}: cannot load dist/ (${err.message}). Run \`npm run build\` first.`);
    process.exit(1);
  }
}
