/**
 * The provider resilience layer: pure logic over the {@link ChatProvider} port, with time taken
 * from an injected `Clock`. Retries of transient failures ({@link RetryingProvider}), a circuit
 * breaker per provider ({@link CircuitBreakerProvider}, {@link CircuitBreakerRegistry}), a
 * fallback chain over models ({@link FallbackProvider}), and {@link createResilientProvider}
 * that composes them as `Fallback(CircuitBreaker(Retrying(provider)) per model)`.
 *
 * @example
 * const breakers = new CircuitBreakerRegistry(); // one per process
 * const provider = createResilientProvider({
 *   entries: [
 *     { spec: 'gemini:gemini-2.5-pro', model: 'gemini-2.5-pro', provider: gemini },
 *     { spec: 'deepseek:deepseek-chat', model: 'deepseek-chat', provider: deepseek },
 *   ],
 *   breakers,
 *   onEvent: (event) => logger.warn('provider resilience', { ...event }),
 * });
 * const result = await provider.complete(request); // result.servedBy names the model that answered
 */
export {
  RetryStopReasons,
  compileRetryOptions,
  decideRetry,
  type RetryOptions,
  type CompiledRetryOptions,
  type RetryStopReason,
  type RetryState,
  type RetryDecision,
} from './retry-policy.js';
export { RetryingProvider, type RetryInfo, type RetryingProviderOptions } from './retrying-provider.js';
export {
  CircuitStates,
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitBreakerProvider,
  compileBreakerOptions,
  type CircuitState,
  type BreakerOptions,
  type CompiledBreakerOptions,
  type CircuitStateChange,
  type CircuitBreakerOptions,
  type CircuitPermit,
} from './circuit-breaker.js';
export {
  FallbackProvider,
  canFallBackOn,
  type FallbackEntry,
  type FallbackInfo,
  type FallbackProviderOptions,
} from './fallback-provider.js';
export {
  createResilientProvider,
  type ResilienceEvent,
  type ResilientProviderOptions,
} from './create-resilient-provider.js';
