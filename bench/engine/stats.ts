/**
 * Small statistics for the engine benchmark: nearest-rank percentiles and number formatting.
 */

/** The p-th percentile (0..100) of `values` by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Milliseconds with two decimals ("-" for NaN). */
export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '-';
}

/** A rate with no decimals ("-" for NaN). */
export function rate(value: number): string {
  return Number.isFinite(value) ? value.toFixed(0) : '-';
}

/** The wall clock in milliseconds with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.now();
}
