/**
 * The resilience layer assembled: each model gets retries inside a circuit breaker, and the
 * models form a fallback chain.
 *
 * Why retries sit *inside* the breaker: one call, with all its retries, is one breaker outcome.
 * A provider that fails a few times and then answers is healthy and does not count against its
 * breaker; a call that used up its retries is one failure; and an open breaker refuses the call
 * before any retry or wait is spent on it, so the chain moves on to the next model at once.
 */
import { invalidField, systemClock, type Clock } from '@maestro/runtime';
import type { ChatProvider } from '../chat-provider.js';
import { CircuitBreakerProvider, CircuitBreakerRegistry, type BreakerOptions, type CircuitStateChange } from './circuit-breaker.js';
import { FallbackProvider, type FallbackEntry, type FallbackInfo } from './fallback-provider.js';
import type { RetryOptions } from './retry-policy.js';
import { RetryingProvider, type RetryInfo } from './retrying-provider.js';

/** Everything the layer reports while it works, for one log line or metric each. */
export type ResilienceEvent =
  | ({ type: 'retry'; spec: string } & RetryInfo)
  | ({ type: 'circuit' } & CircuitStateChange)
  | ({ type: 'fallback' } & FallbackInfo);

/** Options of {@link createResilientProvider}. */
export interface ResilientProviderOptions {
  /** The models in order of preference, the primary first; at least one. */
  entries: readonly FallbackEntry[];
  /**
   * Where waits, time budgets and open periods are measured.
   * @default systemClock
   */
  clock?: Clock;
  /** How each model's calls are retried; see {@link RetryOptions} for each default. */
  retry?: RetryOptions;
  /**
   * When a provider's breaker opens; see {@link BreakerOptions} for each default. Only for the
   * registry made here: give it or `breakers`, not both.
   */
  breaker?: BreakerOptions;
  /**
   * The breakers, one per provider name, shared with every other resilient provider of the
   * process so that they all see the same outage. Its own `onStateChange` reports its changes;
   * `onEvent` then gets retries and fallbacks only.
   * @default a new registry with `clock`, `breaker` and `onEvent`, private to this provider
   */
  breakers?: CircuitBreakerRegistry;
  /** Called for each retry, breaker state change and fallback; it must not throw. */
  onEvent?: (event: ResilienceEvent) => void;
}

/**
 * Builds `Fallback(entries.map(CircuitBreaker(Retrying(provider))))`, with one breaker per
 * provider name, so every model of a provider that is down is skipped together.
 *
 * @example
 * const breakers = new CircuitBreakerRegistry({ onStateChange: (c) => logger.warn('circuit changed', { ...c }) });
 * const provider = createResilientProvider({
 *   entries: [
 *     { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: gemini },
 *     { spec: 'deepseek:deepseek-chat', model: 'deepseek-chat', provider: deepseek },
 *   ],
 *   breakers,
 * });
 * const result = await provider.complete(request);
 * result.servedBy; // 'deepseek:deepseek-chat' while Gemini is down
 */
export function createResilientProvider(options: ResilientProviderOptions): ChatProvider {
  const { entries, retry, onEvent } = options;
  const clock = options.clock ?? systemClock;
  if (options.breakers !== undefined && options.breaker !== undefined) {
    throw invalidField('breaker', 'give either breaker options or a breakers registry, not both: a registry already has its options');
  }
  const breakers =
    options.breakers ??
    new CircuitBreakerRegistry({
      clock,
      breaker: options.breaker,
      onStateChange: (change) => onEvent?.({ type: 'circuit', ...change }),
    });
  const guarded = entries.map(
    (entry): FallbackEntry => ({
      ...entry,
      provider: new CircuitBreakerProvider(
        new RetryingProvider(entry.provider, {
          clock,
          retry,
          onRetry: (info) => onEvent?.({ type: 'retry', spec: entry.spec, ...info }),
        }),
        breakers.get(entry.provider.name),
      ),
    }),
  );
  return new FallbackProvider(guarded, { onFallback: (info) => onEvent?.({ type: 'fallback', ...info }) });
}
