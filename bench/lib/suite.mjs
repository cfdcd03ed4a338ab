/**
 * Shared by the benchmarks that run suites through the harness: command-line
 * options, and the harness itself from dist/ (with a clear error when it is not built).
 */

/** The value after `--name` on the command line, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** runSuite, the catalogue, the gateways and the scenario loader from dist/; exits 1 when dist/ is not built. */
export async function loadHarness(bench) {
  const dist = (p) => new URL(`../../dist/${p}`, import.meta.url);
  try {
    return {
      ...(await import(dist('harness/run.js'))),
      ...(await import(dist('faults/registry.js'))),
      ...(await import(dist('gateways/index.js'))),
      ...(await import(dist('scenarios/load.js'))),
    };
  } catch (err) {
    console.error(`${bench}: cannot load dist/ (${err.message}). Run \`npm run build\` first.`);
    process.exit(1);
  }
}
