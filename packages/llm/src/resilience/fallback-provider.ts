/**
 * A {@link ChatProvider} over an ordered list of models: the first (primary) answers unless it
 * cannot, then the next is asked, and so on. Every call starts again from the primary, so the
 * primary takes over again as soon as it answers (with circuit breakers: once its breaker closes).
 *
 * Falling back is for failures of the *provider*, which another provider does not share:
 * transient errors (after the entry's own retries), an open circuit, and the user errors that
 * mean "this provider cannot serve you" — bad key, no key, no balance, unknown model. Failures
 * of the *request* (bad request, context too long, refusal) would fail the same way elsewhere,
 * and a cancelled call must stop, so those are thrown at once.
 */
import { UserError, invalidField, isMaestroError } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from '../chat-provider.js';
import { ProviderErrorCodes, isRetryableProviderError, providerError } from '../provider-errors.js';
import { annotateError, codeOf } from './annotate-error.js';

/** One model of a fallback chain. */
export interface FallbackEntry {
  /** The model spec, for results and logs (`gemini:gemini-2.5-pro`). */
  spec: string;
  /** The provider's model id; it replaces `request.model` for this entry. */
  model: string;
  /** The provider, already wrapped in its retries and breaker. */
  provider: ChatProvider;
}

/** What {@link FallbackProviderOptions.onFallback} is told when the next model is asked. */
export interface FallbackInfo {
  /** The spec that failed. */
  from: string;
  /** The spec asked next. */
  to: string;
  /** Why `from` failed. */
  error: unknown;
}

/** Options of {@link FallbackProvider}. */
export interface FallbackProviderOptions {
  /** Called each time the next model is asked, for logs and metrics; it must not throw. */
  onFallback?: (info: FallbackInfo) => void;
}

const FALLBACK_USER_ERROR_CODES: ReadonlySet<string> = new Set([
  ProviderErrorCodes.authFailed,
  ProviderErrorCodes.keyMissing,
  ProviderErrorCodes.insufficientBalance,
  ProviderErrorCodes.modelNotFound,
]);

/**
 * True when another model may succeed where this error's provider failed: a transient error
 * (circuit open included), or auth failed, key missing, insufficient balance, model not found.
 */
export function canFallBackOn(error: unknown): boolean {
  return isRetryableProviderError(error) || (error instanceof UserError && FALLBACK_USER_ERROR_CODES.has(error.code));
}

/**
 * Asks each entry in order until one answers. The result says who answered: `servedBy` is that
 * entry's spec and, when it is not the primary, `fallbackFrom` is the primary's. When every entry
 * fails, the primary's error is thrown (its code is what the caller's configuration is about)
 * with `details.tried` listing each `{ spec, code }` in order. Streams fall back only before
 * their first event, so a caller never sees two models' text mixed.
 *
 * Its `name` is the primary's provider name.
 */
export class FallbackProvider implements ChatProvider {
  readonly name: string;
  /** Present when some entry streams; entries that do not are asked with `complete`. */
  readonly stream?: (request: CompletionRequest) => AsyncIterable<CompletionStreamEvent>;
  private readonly entries: readonly [FallbackEntry, ...FallbackEntry[]];
  private readonly onFallback: ((info: FallbackInfo) => void) | undefined;

  constructor(entries: readonly FallbackEntry[], options: FallbackProviderOptions = {}) {
    const [primary, ...rest] = entries;
    if (primary === undefined) throw invalidField('entries', 'a fallback chain needs at least one model');
    this.entries = [primary, ...rest];
    this.name = primary.provider.name;
    this.onFallback = options.onFallback;
    if (entries.some((entry) => entry.provider.stream !== undefined)) this.stream = (request) => this.streamWithFallback(request);
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const tried: Array<{ spec: string; error: unknown }> = [];
    for (const [index, entry] of this.entries.entries()) {
      try {
        const result = await entry.provider.complete({ ...request, model: entry.model });
        return this.label(result, index);
      } catch (error) {
        if (!canFallBackOn(error)) throw error;
        tried.push({ spec: entry.spec, error });
        this.beforeNext(index, error, request.signal);
      }
    }
    throw this.allFailed(tried);
  }

  private async *streamWithFallback(request: CompletionRequest): AsyncGenerator<CompletionStreamEvent> {
    const tried: Array<{ spec: string; error: unknown }> = [];
    for (const [index, entry] of this.entries.entries()) {
      let delivered = false;
      try {
        for await (const event of openStream(entry.provider, { ...request, model: entry.model })) {
          delivered = true;
          yield event.type === 'final' ? { type: 'final', result: this.label(event.result, index) } : event;
        }
        return;
      } catch (error) {
        if (delivered || !canFallBackOn(error)) throw error;
        tried.push({ spec: entry.spec, error });
        this.beforeNext(index, error, request.signal);
      }
    }
    throw this.allFailed(tried);
  }

  private label(result: CompletionResult, index: number): CompletionResult {
    const entry = this.entries[index]!;
    return index === 0 ? { ...result, servedBy: entry.spec } : { ...result, servedBy: entry.spec, fallbackFrom: this.entries[0].spec };
  }

  /** Reports the move to the next entry, unless there is none; a cancelled call stops here. */
  private beforeNext(index: number, error: unknown, signal: AbortSignal | undefined): void {
    const failed = this.entries[index]!;
    const next = this.entries[index + 1];
    if (next === undefined) return;
    if (signal?.aborted === true) {
      throw providerError(
        ProviderErrorCodes.cancelled,
        `the call was cancelled after ${failed.spec} failed, before ${next.spec} was asked`,
        { provider: failed.provider.name },
        error,
      );
    }
    this.onFallback?.({ from: failed.spec, to: next.spec, error });
  }

  private allFailed(tried: ReadonlyArray<{ spec: string; error: unknown }>): unknown {
    const primaryError = tried[0]?.error;
    if (!isMaestroError(primaryError)) return primaryError;
    const attempts = tried.map(({ spec, error }) => ({ spec, code: codeOf(error) }));
    const summary = attempts.map(({ spec, code }) => `${spec} ${code}`).join(', ');
    return annotateError(primaryError, { tried: attempts }, `every model failed: ${summary}`);
  }
}

/** The provider's stream, or its `complete` answer as a single final event when it does not stream. */
async function* openStream(provider: ChatProvider, request: CompletionRequest): AsyncGenerator<CompletionStreamEvent> {
  if (provider.stream !== undefined) {
    yield* provider.stream(request);
    return;
  }
  yield { type: 'final', result: await provider.complete(request) };
}
