/**
 * Small statistics for the queue benchmark: a summary of pick-up latencies (by the benchmarks'
 * shared percentiles) and a clock comparable across processes.
 */
import { percentile } from '../shared/stats.js';

/** p50 / p99 / max of a set of latencies in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Summarises latencies (ms). */
export function summarize(latenciesMs: readonly number[]): LatencySummary {
  return {
    count: latenciesMs.length,
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
    max: latenciesMs.length === 0 ? Number.NaN : Math.max(...latenciesMs),
  };
}

/** The wall clock with sub-millisecond resolution (epoch ms), comparable across processes on one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
