/** The statistics a load report needs, kept small and exact. Pure. */

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a proportion: k successes in n trials. Unlike p ± z·√(p(1-p)/n) it
 * stays inside [0, 1] and is honest for the small shares load runs are about (0.1 % of 10,000
 * is 10 events). Undefined for n = 0.
 */
export function wilson(k: number, n: number, z = Z95): { readonly low: number; readonly high: number } | undefined {
  if (n <= 0) return undefined;
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 (k = n) the bound is 0 (1) exactly; the arithmetic would leave a rounding crumb.
  return { low: k === 0 ? 0 : Math.max(0, centre - half), high: k === n ? 1 : Math.min(1, centre + half) };
}
