/**
 * Percentiles of benchmark samples, nearest-rank on an ascending array.
 *
 * Contract: `percentile(sorted, p)` expects `sorted` ascending and `p` in [0, 100]; it answers the
 * sample at rank ⌈p/100 · n⌉ (the smallest sample with at least p% of all samples at or below it),
 * so every answer is a value that was measured, never an interpolation. An empty array answers NaN,
 * which the figures print as "NaN" rather than a made-up 0.
 */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

/** Sorts a copy ascending (numerically — `Array#sort` alone compares as strings). */
export function ascending(samples: readonly number[]): number[] {
  return [...samples].sort((a, b) => a - b);
}
