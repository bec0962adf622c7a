/**
 * The engine benchmark's clock (percentiles and formatting are the benchmarks' shared ones, in
 * `../shared/stats.ts`).
 */

/** The wall clock in milliseconds with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.now();
}
