/**
 * Small statistics for the locks benchmark: nearest-rank percentiles of waits and latencies.
 */

/** The p-th percentile (0..100) of `values` by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Formats milliseconds with two decimals ("-" for NaN). */
export function ms(value: number): string {
  return Number.isNaN(value) ? '-' : value.toFixed(2);
}
