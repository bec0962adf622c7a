/**
 * A circuit breaker per provider: after repeated transient failures the provider is left alone
 * for a while, so callers fail fast (and fall back) instead of each waiting out its own retries
 * against a provider that is down.
 *
 * closed → (`failureThreshold` transient failures in a row) → open → (`openMs` later, noticed on
 * the next call or `state()` read; no timers) → half-open: ONE trial call goes through, the others
 * fail fast → the trial's success closes the breaker, its transient failure opens it again.
 *
 * Only operational errors count. A user error (bad request, auth, refusal, cancellation) shows
 * that the provider answered, not that it is down, yet it does not prove it healthy either: it
 * neither counts as a failure nor resets the count.
 */
import { systemClock, invalidField, type Clock, type OperationalError } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from '../chat-provider.js';
import { ProviderErrorCodes, isRetryableProviderError, providerError } from '../provider-errors.js';
import { codeOf } from './annotate-error.js';

/** The three states of a breaker. */
export const CircuitStates = {
  /** Calls go through; transient failures are counted. */
  closed: 'closed',
  /** Calls fail at once with `PROVIDER_CIRCUIT_OPEN`. */
  open: 'open',
  /** One trial call goes through to find out whether the provider is back. */
  halfOpen: 'half_open',
} as const;
/** One of {@link CircuitStates}. */
export type CircuitState = (typeof CircuitStates)[keyof typeof CircuitStates];

/** When a breaker opens and for how long. */
export interface BreakerOptions {
  /**
   * Transient failures in a row that open the breaker.
   * @default 5
   */
  failureThreshold?: number;
  /**
   * How long an open breaker refuses calls before letting a trial call through.
   * @default 30000
   */
  openMs?: number;
}

/** {@link BreakerOptions} with every default filled in and the values checked. */
export type CompiledBreakerOptions = Readonly<Required<BreakerOptions>>;

/** Fills in the defaults of {@link BreakerOptions} and rejects values that make no sense. */
export function compileBreakerOptions(options: BreakerOptions = {}): CompiledBreakerOptions {
  const compiled = {
    failureThreshold: options.failureThreshold ?? 5,
    openMs: options.openMs ?? 30_000,
  };
  if (!Number.isInteger(compiled.failureThreshold) || compiled.failureThreshold < 1) {
    throw invalidField('breaker.failureThreshold', `must be a whole number of at least 1, got ${compiled.failureThreshold}`);
  }
  if (!Number.isFinite(compiled.openMs) || compiled.openMs < 0) {
    throw invalidField('breaker.openMs', `must be a number of milliseconds of at least 0, got ${compiled.openMs}`);
  }
  return Object.freeze(compiled);
}

/** A breaker's move from one state to another, as told to `onStateChange`. */
export interface CircuitStateChange {
  /** The provider the breaker guards. */
  provider: string;
  from: CircuitState;
  to: CircuitState;
  /** The clock's time of the change. */
  at: number;
  /** The failure that opened the breaker, when `to` is `open`. */
  error?: OperationalError;
}

/** Options of {@link CircuitBreaker} and {@link CircuitBreakerRegistry}. */
export interface CircuitBreakerOptions {
  /**
   * Where the open period is measured.
   * @default systemClock
   */
  clock?: Clock;
  /** The breaker policy; see {@link BreakerOptions} for each default. */
  breaker?: BreakerOptions;
  /** Called on every state change, for logs and metrics; it must not throw. */
  onStateChange?: (change: CircuitStateChange) => void;
}

/**
 * The right to make one call through a breaker, returned by {@link CircuitBreaker.enter}. Report
 * how the call ended exactly once; later reports are ignored, so `abandoned()` in a `finally` is safe.
 */
export interface CircuitPermit {
  /** The call got its answer. */
  succeeded(): void;
  /** The call failed with `error`; only a transient error counts against the provider. */
  failed(error: unknown): void;
  /** The call ended with neither (a stream the caller stopped reading): frees a trial slot. */
  abandoned(): void;
}

/**
 * The breaker of one provider. Share one instance between every caller of that provider (see
 * {@link CircuitBreakerRegistry}) so that all its models see the same outage.
 */
export class CircuitBreaker {
  /** The provider it guards, as in model specs. */
  readonly name: string;
  private readonly clock: Clock;
  private readonly policy: CompiledBreakerOptions;
  private readonly onStateChange: ((change: CircuitStateChange) => void) | undefined;
  private current: CircuitState = CircuitStates.closed;
  /** Bumped on every change, so a call that started in an earlier state cannot sway the current one. */
  private epoch = 0;
  private failures = 0;
  private lastError: OperationalError | undefined;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(name: string, options: CircuitBreakerOptions = {}) {
    this.name = name;
    this.clock = options.clock ?? systemClock;
    this.policy = compileBreakerOptions(options.breaker);
    this.onStateChange = options.onStateChange;
  }

  /** The current state; an open breaker whose `openMs` has passed turns half-open here. */
  state(): CircuitState {
    if (this.current === CircuitStates.open && this.clock.now() >= this.openUntil) {
      this.moveTo(CircuitStates.halfOpen);
    }
    return this.current;
  }

  /**
   * Asks to make one call: returns the permit to report its outcome with, or throws the
   * `PROVIDER_CIRCUIT_OPEN` operational error while the breaker refuses calls.
   */
  enter(): CircuitPermit {
    const state = this.state();
    if (state === CircuitStates.open) throw this.openError();
    if (state === CircuitStates.halfOpen) {
      if (this.trialInFlight) throw this.trialError();
      this.trialInFlight = true;
      return this.permit(true);
    }
    return this.permit(false);
  }

  /** Runs `call` through the breaker: refused while open, its outcome recorded. */
  async execute<T>(call: () => Promise<T>): Promise<T> {
    const permit = this.enter();
    try {
      const result = await call();
      permit.succeeded();
      return result;
    } catch (error) {
      permit.failed(error);
      throw error;
    }
  }

  private permit(trial: boolean): CircuitPermit {
    const epoch = this.epoch;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      if (epoch === this.epoch) outcome();
    };
    return {
      succeeded: () =>
        settle(() => {
          if (trial) this.moveTo(CircuitStates.closed);
          else this.failures = 0;
        }),
      failed: (error) =>
        settle(() => {
          if (!isRetryableProviderError(error)) {
            if (trial) this.trialInFlight = false;
            return;
          }
          this.failures += 1;
          this.lastError = error;
          if (trial || this.failures >= this.policy.failureThreshold) this.moveTo(CircuitStates.open, error);
        }),
      abandoned: () =>
        settle(() => {
          if (trial) this.trialInFlight = false;
        }),
    };
  }

  private moveTo(to: CircuitState, error?: OperationalError): void {
    const from = this.current;
    const at = this.clock.now();
    this.current = to;
    this.epoch += 1;
    this.trialInFlight = false;
    if (to === CircuitStates.open) this.openUntil = at + this.policy.openMs;
    if (to === CircuitStates.closed) {
      this.failures = 0;
      this.lastError = undefined;
    }
    this.onStateChange?.({ provider: this.name, from, to, at, ...(error === undefined ? {} : { error }) });
  }

  private openError(): OperationalError {
    const retryInMs = Math.max(0, this.openUntil - this.clock.now());
    return providerError(
      ProviderErrorCodes.circuitOpen,
      `${this.name} is failing (${this.failures} transient failures in a row, last ${codeOf(this.lastError)}), ` +
        `so calls to it are refused; it will be tried again in ${Math.ceil(retryInMs / 1000)} s ` +
        `(at ${new Date(this.openUntil).toISOString()})`,
      { provider: this.name, retryAfterMs: retryInMs, retryAt: this.openUntil, failures: this.failures },
      this.lastError,
    ) as OperationalError;
  }

  private trialError(): OperationalError {
    return providerError(
      ProviderErrorCodes.circuitOpen,
      `${this.name} is failing (${this.failures} transient failures in a row, last ${codeOf(this.lastError)}); ` +
        'a trial call is checking whether it is back, and other calls are refused until it ends',
      { provider: this.name, failures: this.failures },
      this.lastError,
    ) as OperationalError;
  }
}

/**
 * One {@link CircuitBreaker} per provider name, created on first use with the registry's options.
 * Keep one registry per process so every model of a provider that is down shares its breaker.
 */
export class CircuitBreakerRegistry {
  private readonly options: CircuitBreakerOptions;
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(options: CircuitBreakerOptions = {}) {
    this.options = { ...options, breaker: compileBreakerOptions(options.breaker) };
  }

  /** The breaker of `provider` (`gemini`, `deepseek` …), created closed if it is new. */
  get(provider: string): CircuitBreaker {
    let breaker = this.breakers.get(provider);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(provider, this.options);
      this.breakers.set(provider, breaker);
    }
    return breaker;
  }

  /** Every known breaker's state by provider name, for health reports and metrics. */
  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([name, breaker]) => [name, breaker.state()]));
  }
}

/** A {@link ChatProvider} whose calls go through a {@link CircuitBreaker}. */
export class CircuitBreakerProvider implements ChatProvider {
  readonly name: string;
  /** Present exactly when the wrapped provider streams. */
  readonly stream?: (request: CompletionRequest) => AsyncIterable<CompletionStreamEvent>;
  private readonly provider: ChatProvider;
  private readonly breaker: CircuitBreaker;

  constructor(provider: ChatProvider, breaker: CircuitBreaker) {
    this.provider = provider;
    this.name = provider.name;
    this.breaker = breaker;
    const stream = provider.stream?.bind(provider);
    if (stream !== undefined) this.stream = (request) => this.guardedStream(request, stream);
  }

  complete(request: CompletionRequest): Promise<CompletionResult> {
    return this.breaker.execute(() => this.provider.complete(request));
  }

  /**
   * A stream is one call: it succeeds with its final event (a caller may stop reading there),
   * fails when it throws, and is abandoned when the caller stops reading before the end.
   */
  private async *guardedStream(
    request: CompletionRequest,
    open: (request: CompletionRequest) => AsyncIterable<CompletionStreamEvent>,
  ): AsyncGenerator<CompletionStreamEvent> {
    const permit = this.breaker.enter();
    try {
      for await (const event of open(request)) {
        if (event.type === 'final') permit.succeeded();
        yield event;
      }
    } catch (error) {
      permit.failed(error);
      throw error;
    } finally {
      permit.abandoned();
    }
  }
}
