/**
 * Statistics every benchmark prints with: nearest-rank percentiles and number formatting, kept in
 * one place so two benchmarks never disagree on what "p99" means.
 */

/** The p-th percentile (0..100) of `values` by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Milliseconds with two decimals ("-" for NaN or infinity). */
export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '-';
}

/** A rate with no decimals ("-" for NaN or infinity). */
export function rate(value: number): string {
  return Number.isFinite(value) ? value.toFixed(0) : '-';
}
