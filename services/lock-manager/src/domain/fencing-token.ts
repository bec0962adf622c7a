/**
 * Fencing tokens that keep rising even when the store forgets everything: each token is
 * `max(last + 1, store clock in µs)`. A store that lost its counter (a Redis restart without
 * persistence, a new in-memory store) still issues tokens above every earlier one, provided
 * its clock did not step back by more than the time since the last grant.
 */

/** Microseconds per millisecond, to turn a `Clock` reading into the token's unit. */
export const MICROS_PER_MS = 1000;

/**
 * The token after `lastToken`, at store time `nowMicros`.
 *
 * @example
 * nextFencingToken(0, 1_700_000_000_000_000)                 // 1_700_000_000_000_000
 * nextFencingToken(1_700_000_000_000_000, 1_700_000_000_000_000) // 1_700_000_000_000_001
 */
export function nextFencingToken(lastToken: number, nowMicros: number): number {
  return Math.max(lastToken + 1, Math.floor(nowMicros));
}
