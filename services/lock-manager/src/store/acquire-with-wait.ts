/**
 * The waiting half of an acquire, shared by every store: try, and while a concern is held back
 * off and try again until the wait is spent. Time comes from the injected `Clock` so tests move
 * it by hand instead of sleeping.
 */
import { OperationalError } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import { lockConflict } from '../domain/lease.js';
import type { Lease } from '../domain/lease.js';
import type { AcquireAttempt } from './lock-store.js';

/** Backoff between attempts while waiting for a held concern. */
export const AcquireBackoff = {
  /** First pause, in ms. @default 10 */
  initialMs: 10,
  /** Longest pause, in ms: short, so a freed concern is picked up soon after release. @default 200 */
  maxMs: 200,
} as const;

/** Options of {@link acquireWithWait}. */
export interface WaitOptions {
  /** Where the wait reads and spends time. */
  clock: Clock;
  /** Checked before every attempt: an aborted wait throws `LOCK_WAIT_CANCELLED`. */
  signal?: AbortSignal | undefined;
  /** Jitter source. @default Math.random */
  random?: () => number;
}

/**
 * Calls `attempt` until it grants or `waitMs` of clock time has passed, doubling the pause
 * (with jitter, so waiters released together do not retry in lockstep) up to
 * {@link AcquireBackoff.maxMs}; then throws `LOCK_CONFLICT` for the last conflict seen.
 */
export async function acquireWithWait(
  attempt: () => Promise<AcquireAttempt>,
  waitMs: number,
  options: WaitOptions,
): Promise<Lease> {
  const { clock, signal, random = Math.random } = options;
  const deadline = clock.now() + waitMs;
  let pause: number = AcquireBackoff.initialMs;
  for (;;) {
    // Nobody would learn of a lease granted after the caller left; it would only block others
    // until its ttl ran out.
    if (signal?.aborted) {
      throw new OperationalError('LOCK_WAIT_CANCELLED', 'acquire cancelled by the caller while waiting for held concerns');
    }
    const result = await attempt();
    if (result.granted) return result.lease;
    const remaining = deadline - clock.now();
    if (remaining <= 0) throw lockConflict(result.conflict, waitMs);
    const jittered = Math.max(1, Math.round(pause * (0.5 + random() / 2)));
    await clock.sleep(Math.min(jittered, remaining));
    pause = Math.min(pause * 2, AcquireBackoff.maxMs);
  }
}
