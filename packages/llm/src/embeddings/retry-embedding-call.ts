/**
 * Retries one embedding request by the same rule as chat calls ({@link decideRetry}: operational
 * errors only, `shouldRetry: false` respected, the provider's `Retry-After` / `RetryInfo` honoured,
 * bounded in attempts and elapsed time), with waits on the injected {@link Clock}. Each batch of a
 * large `embed` call is retried on its own, so a failure late in a call never re-bills the
 * batches already done.
 */
import type { Clock } from '@maestro/runtime';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import { annotateError } from '../resilience/annotate-error.js';
import { RetryStopReasons, decideRetry, type CompiledRetryOptions } from '../resilience/retry-policy.js';
import type { RetryInfo } from '../resilience/retrying-provider.js';

/** How {@link retryEmbeddingCall} retries. */
export interface EmbeddingRetryContext {
  /** The provider's name, for `onRetry` and the cancellation message. */
  provider: string;
  clock: Clock;
  policy: CompiledRetryOptions;
  signal?: AbortSignal | undefined;
  /** Called before each wait (for logs); it must not throw. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

/**
 * Runs `call` until it succeeds or {@link decideRetry} says stop. A transient error given up on
 * keeps its code and gains `details.attempts` and `details.retryStop`; other errors pass through.
 */
export async function retryEmbeddingCall<T>(call: () => Promise<T>, ctx: EmbeddingRetryContext): Promise<T> {
  const startedAt = ctx.clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const decision = decideRetry(ctx.policy, { error, attempt, elapsedMs: ctx.clock.now() - startedAt });
      if (!decision.retry) {
        if (decision.reason === RetryStopReasons.notRetryable || decision.reason === RetryStopReasons.declined) throw error;
        throw annotateError(error, { attempts: attempt, retryStop: decision.reason }, decision.explanation);
      }
      ctx.onRetry?.({ provider: ctx.provider, attempt, delayMs: decision.delayMs, error: decision.error });
      try {
        await ctx.clock.sleep(decision.delayMs, ctx.signal);
      } catch {
        throw providerError(
          ProviderErrorCodes.cancelled,
          `the embedding call to ${ctx.provider} was cancelled while waiting ${decision.delayMs} ms to retry after attempt ${attempt} failed`,
          { provider: ctx.provider, attempts: attempt },
          error,
        );
      }
    }
  }
}
