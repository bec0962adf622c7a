/**
 * When a failed provider call is worth another try, and how long to wait first. Pure: the caller
 * passes the attempt count and the elapsed time, so the rule is tested without a clock.
 *
 * A call is retried only when its error is operational (429, 5xx, timeout, broken stream …),
 * the provider did not say `details.shouldRetry: false`, attempts remain, and the wait fits in
 * what is left of the time budget. The wait is the runtime's {@link exponentialBackoff} (no
 * jitter: the same failure always waits the same time) or the provider's `retryAfterMs`,
 * whichever is longer.
 */
import { exponentialBackoff, invalidField, type OperationalError } from '@maestro/runtime';
import { isRetryableProviderError, retryAfterMsOf } from '../provider-errors.js';

/** How persistently a provider call is retried. */
export interface RetryOptions {
  /**
   * Most calls made in total, the first included; 1 disables retrying.
   * @default 4
   */
  maxAttempts?: number;
  /**
   * Time budget from the first call: no retry starts later than this, and a wait that would end
   * past it is not started (the call fails at once instead of sleeping past the bound).
   * @default 60000
   */
  maxElapsedMs?: number;
  /**
   * Backoff before the first retry; it doubles for each next one.
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * Longest backoff. A provider's `retryAfterMs` may ask for longer; only the budget bounds that.
   * @default 30000
   */
  maxDelayMs?: number;
}

/** {@link RetryOptions} with every default filled in and the values checked. */
export type CompiledRetryOptions = Readonly<Required<RetryOptions>>;

/** Fills in the defaults of {@link RetryOptions} and rejects values that make no sense. */
export function compileRetryOptions(options: RetryOptions = {}): CompiledRetryOptions {
  const compiled = {
    maxAttempts: options.maxAttempts ?? 4,
    maxElapsedMs: options.maxElapsedMs ?? 60_000,
    baseDelayMs: options.baseDelayMs ?? 1_000,
    maxDelayMs: options.maxDelayMs ?? 30_000,
  };
  if (!Number.isInteger(compiled.maxAttempts) || compiled.maxAttempts < 1) {
    throw invalidField('retry.maxAttempts', `must be a whole number of at least 1, got ${compiled.maxAttempts}`);
  }
  for (const field of ['maxElapsedMs', 'baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(compiled[field]) || compiled[field] < 0) {
      throw invalidField(`retry.${field}`, `must be a number of milliseconds of at least 0, got ${compiled[field]}`);
    }
  }
  if (compiled.maxDelayMs < compiled.baseDelayMs) {
    throw invalidField('retry.maxDelayMs', `must be at least retry.baseDelayMs (${compiled.baseDelayMs}), got ${compiled.maxDelayMs}`);
  }
  return Object.freeze(compiled);
}

/** Why retrying stopped. */
export const RetryStopReasons = {
  /** The error is not transient (a user error, a bug): retrying cannot fix it. */
  notRetryable: 'not_retryable',
  /** The provider marked the error `shouldRetry: false`. */
  declined: 'declined',
  /** `maxAttempts` calls were made. */
  attemptsExhausted: 'attempts_exhausted',
  /** The wait before the next call would end past `maxElapsedMs`. */
  budgetExceeded: 'budget_exceeded',
} as const;
/** One of {@link RetryStopReasons}. */
export type RetryStopReason = (typeof RetryStopReasons)[keyof typeof RetryStopReasons];

/** Where a retried call stands after a failure. */
export interface RetryState {
  /** What the last call threw. */
  error: unknown;
  /** Calls made so far, the failed one included (1 after the first failure). */
  attempt: number;
  /** Time since the first call started. */
  elapsedMs: number;
}

/**
 * Retry after `delayMs` (`error` is then known to be transient), or stop for `reason`, with
 * `explanation` written for the error message.
 */
export type RetryDecision =
  | { retry: true; delayMs: number; error: OperationalError }
  | { retry: false; reason: RetryStopReason; explanation: string };

/** Decides whether to call again after the failure described by `state`, and after how long. */
export function decideRetry(options: CompiledRetryOptions, state: RetryState): RetryDecision {
  const { error, attempt, elapsedMs } = state;
  if (!isRetryableProviderError(error)) {
    return { retry: false, reason: RetryStopReasons.notRetryable, explanation: 'the error is not transient' };
  }
  if (error.details?.['shouldRetry'] === false) {
    return { retry: false, reason: RetryStopReasons.declined, explanation: 'the provider said not to retry' };
  }
  if (attempt >= options.maxAttempts) {
    return {
      retry: false,
      reason: RetryStopReasons.attemptsExhausted,
      explanation: `gave up after ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}`,
    };
  }
  const backoffMs = exponentialBackoff({ baseMs: options.baseDelayMs, maxMs: options.maxDelayMs })(attempt);
  const retryAfterMs = retryAfterMsOf(error);
  const delayMs = Math.max(backoffMs, retryAfterMs ?? 0);
  const leftMs = Math.max(0, options.maxElapsedMs - elapsedMs);
  if (delayMs > leftMs) {
    const wait =
      retryAfterMs !== undefined && retryAfterMs >= backoffMs
        ? `the provider asked to wait ${retryAfterMs} ms`
        : `the next retry would wait ${delayMs} ms`;
    return {
      retry: false,
      reason: RetryStopReasons.budgetExceeded,
      explanation:
        `gave up after ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}: ${wait}, ` +
        `which would exceed the ${options.maxElapsedMs} ms retry budget (${leftMs} ms left)`,
    };
  }
  return { retry: true, delayMs, error };
}
