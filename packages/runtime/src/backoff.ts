/**
 * Exponential backoff, the one formula behind every retry in CodeMaestro (redeliveries, publish
 * retries, durable writes): `baseMs · 2^(attempt-1)`, capped at `maxMs`.
 *
 * @example
 * const delay = exponentialBackoff({ baseMs: 250, maxMs: 30_000 });
 * delay(1); // 250
 * delay(9); // 30000
 */

/** Options for {@link exponentialBackoff}. */
export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** Longest delay. */
  maxMs: number;
}

/** The delay before retry number `attempt` (1 after the first failure). */
export function exponentialBackoff(options: BackoffOptions): (attempt: number) => number {
  return (attempt) => Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
}
