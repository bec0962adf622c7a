/**
 * A {@link ChatProvider} that calls another one again after transient failures, by the rule of
 * {@link decideRetry}. Waits go through the injected {@link Clock} and end early, with
 * `PROVIDER_CALL_CANCELLED`, when the request's `signal` aborts.
 *
 * Streams are retried only while nothing has reached the caller: once a delta was yielded, a
 * retry would repeat text the caller already showed, so a later failure passes through unchanged.
 */
import { systemClock, type Clock, type OperationalError } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from '../chat-provider.js';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import { annotateError } from './annotate-error.js';
import { compileRetryOptions, decideRetry, RetryStopReasons, type CompiledRetryOptions, type RetryOptions } from './retry-policy.js';

/** What {@link RetryingProviderOptions.onRetry} is told before each wait. */
export interface RetryInfo {
  /** The wrapped provider's name. */
  provider: string;
  /** The call that failed: 1 for the first; the next call is `attempt + 1`. */
  attempt: number;
  /** How long the layer waits before the next call. */
  delayMs: number;
  /** What the failed call threw. */
  error: OperationalError;
}

/** Options of {@link RetryingProvider}. */
export interface RetryingProviderOptions {
  /**
   * Where waits and the time budget are measured.
   * @default systemClock
   */
  clock?: Clock;
  /** The retry policy; see {@link RetryOptions} for each default. */
  retry?: RetryOptions;
  /** Called before each wait, for logs and metrics; it must not throw. */
  onRetry?: (info: RetryInfo) => void;
}

/**
 * Wraps one provider and retries its transient failures. When it gives up on a transient error,
 * the error keeps its code and gains `details.attempts` (calls made) and `details.retryStop`
 * (a {@link RetryStopReason}); errors that are not retried pass through untouched.
 */
export class RetryingProvider implements ChatProvider {
  readonly name: string;
  /** Present exactly when the wrapped provider streams. */
  readonly stream?: (request: CompletionRequest) => AsyncIterable<CompletionStreamEvent>;
  private readonly provider: ChatProvider;
  private readonly clock: Clock;
  private readonly policy: CompiledRetryOptions;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;

  constructor(provider: ChatProvider, options: RetryingProviderOptions = {}) {
    this.provider = provider;
    this.name = provider.name;
    this.clock = options.clock ?? systemClock;
    this.policy = compileRetryOptions(options.retry);
    this.onRetry = options.onRetry;
    const stream = provider.stream?.bind(provider);
    if (stream !== undefined) this.stream = (request) => this.streamWithRetries(request, stream);
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const startedAt = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.provider.complete(request);
      } catch (error) {
        await this.waitBeforeRetry(error, attempt, startedAt, request.signal);
      }
    }
  }

  private async *streamWithRetries(
    request: CompletionRequest,
    open: (request: CompletionRequest) => AsyncIterable<CompletionStreamEvent>,
  ): AsyncGenerator<CompletionStreamEvent> {
    const startedAt = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      let delivered = false;
      try {
        for await (const event of open(request)) {
          delivered = true;
          yield event;
        }
        return;
      } catch (error) {
        if (delivered) throw error;
        await this.waitBeforeRetry(error, attempt, startedAt, request.signal);
      }
    }
  }

  /** Returns once the next call may start, or throws the error the whole call ends with. */
  private async waitBeforeRetry(error: unknown, attempt: number, startedAt: number, signal: AbortSignal | undefined): Promise<void> {
    const decision = decideRetry(this.policy, { error, attempt, elapsedMs: this.clock.now() - startedAt });
    if (!decision.retry) {
      if (decision.reason === RetryStopReasons.notRetryable || decision.reason === RetryStopReasons.declined) throw error;
      throw annotateError(error, { attempts: attempt, retryStop: decision.reason }, decision.explanation);
    }
    if (signal?.aborted === true) throw this.cancelled(attempt, decision.delayMs, error);
    this.onRetry?.({ provider: this.name, attempt, delayMs: decision.delayMs, error: decision.error });
    await this.sleep(decision.delayMs, signal, () => this.cancelled(attempt, decision.delayMs, error));
  }

  /** Sleeps on the clock; an abort of `signal` ends the sleep at once with `cancelled()`. */
  private async sleep(ms: number, signal: AbortSignal | undefined, cancelled: () => unknown): Promise<void> {
    if (signal === undefined) return this.clock.sleep(ms);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(cancelled());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.clock.sleep(ms), aborted]);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  }

  private cancelled(attempt: number, delayMs: number, lastError: unknown): unknown {
    return providerError(
      ProviderErrorCodes.cancelled,
      `the call to ${this.name} was cancelled while waiting ${delayMs} ms to retry after attempt ${attempt} failed`,
      { provider: this.name, attempts: attempt },
      lastError,
    );
  }
}
