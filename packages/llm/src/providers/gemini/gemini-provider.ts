/**
 * The Gemini adapter (`gemini:<model>`): our {@link ChatProvider} over the official
 * `@google/genai` SDK, `generateContent` and `streamGenerateContent?alt=sse`. It makes exactly
 * one HTTP request per call (SDK retries and automatic continuation off: the resilience layer
 * retries), bounds each call in time, and turns every failure into a provider error.
 */
import { ApiError, GoogleGenAI, type GenerateContentConfig, type GenerateContentParameters } from '@google/genai';
import { OperationalError, UserError } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from '../../chat-provider.js';
import { ProviderErrorCodes } from '../../provider-errors.js';
import { GeminiResponseAccumulator } from './from-gemini-response.js';
import { FakeServerHeaders } from '../../fake-server-headers.js';
import { CallGuard } from '../call-guard.js';
import { redactSecret } from '../../redact-secret.js';
import { fromGeminiHttpError, geminiError, isErrorLike, networkCodeOf } from './gemini-errors.js';
import { toGeminiRequest } from './to-gemini-request.js';

/** The Gemini API endpoint used when no `baseUrl` is configured. */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/** How to reach Gemini and how long to wait for it. */
export interface GeminiProviderOptions {
  /** The API key; sent only in the SDK's `x-goog-api-key` header, never in an error. */
  apiKey: string;
  /** The API root (a fake server in tests). @default 'https://generativelanguage.googleapis.com' */
  baseUrl?: string;
  /** The variable the key came from (`GEMINI_API_KEY`), named when the key is missing or rejected. */
  keyVariable: string;
  /**
   * `complete()`: the whole call. `stream()`: until the first chunk arrives (then
   * `idleTimeoutMs` bounds each gap). Past it the request is aborted with `PROVIDER_TIMEOUT`.
   * @default 120000
   */
  timeoutMs?: number;
  /** `stream()`: the longest wait between two chunks before the request is aborted. @default 60000 */
  idleTimeoutMs?: number;
  /**
   * Send the request's intent in an `x-maestro-intent` header. Only for fake servers replaying
   * a script by intent (`maestro demo --wire`); never needed with the real API. @default false
   */
  forwardIntent?: boolean;
  /** The clock, for `retry-after` given as an HTTP date. @default Date.now */
  now?: () => number;
}

/** The SDK's HTTP error (by class, or by shape should two copies of the SDK be loaded). */
function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError || (isErrorLike(err) && err.name === 'ApiError' && typeof (err as { status?: unknown }).status === 'number');
}

/** What the HTTP exchange of one call showed (seen through the SDK's `httpOptions.fetch` hook). */
interface Exchange {
  status?: number;
  headers?: Headers;
}

/**
 * The Gemini provider. `complete()` calls `generateContent`; `stream()` calls
 * `streamGenerateContent` and yields visible text deltas (never thought text), then the final
 * result. Replies served by a fake server with `x-maestro-fake: scripted` come back with
 * `scripted: true`.
 *
 * @example
 * const gemini = new GeminiProvider({ apiKey: config.geminiApiKey, keyVariable: 'GEMINI_API_KEY' });
 * const result = await gemini.complete({ model: 'gemini-2.5-pro', messages, tools });
 */
export class GeminiProvider implements ChatProvider {
  readonly name = 'gemini';
  private readonly client: GoogleGenAI;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: GeminiProviderOptions) {
    if (options.apiKey === '') {
      throw geminiError(
        ProviderErrorCodes.keyMissing,
        `no Gemini API key: set ${options.keyVariable}`,
        { keyVariable: options.keyVariable },
        options,
      );
    }
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.client = new GoogleGenAI({
      apiKey: options.apiKey,
      // Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot switch the backend.
      vertexai: false,
      httpOptions: {
        baseUrl: options.baseUrl ?? GEMINI_DEFAULT_BASE_URL,
        // One attempt: retries (with the provider's retry delay) belong to the resilience layer.
        retryOptions: { attempts: 1 },
      },
    });
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const guard = new CallGuard(request.signal);
    const exchange: Exchange = {};
    let finished = false;
    guard.startDeadline(this.timeoutMs);
    try {
      const response = await guard.race(this.client.models.generateContent(this.parameters(request, guard, exchange)));
      const accumulator = new GeminiResponseAccumulator(this.options);
      accumulator.add(response);
      const result = accumulator.finish(false);
      finished = true;
      return result;
    } catch (err: unknown) {
      throw this.toProviderError(err, guard, exchange, request.model);
    } finally {
      guard.dispose(finished);
    }
  }

  async *stream(request: CompletionRequest): AsyncIterable<CompletionStreamEvent> {
    const guard = new CallGuard(request.signal);
    const exchange: Exchange = {};
    const accumulator = new GeminiResponseAccumulator(this.options);
    let iterator: AsyncIterator<unknown> | undefined;
    let done = false;
    guard.startDeadline(this.timeoutMs);
    try {
      const chunks = await guard.race(this.client.models.generateContentStream(this.parameters(request, guard, exchange)));
      iterator = chunks[Symbol.asyncIterator]();
      for (;;) {
        // The first chunk is bounded by timeoutMs (started above), every later gap by idleTimeoutMs.
        if (accumulator.chunks > 0) guard.armIdle(this.idleTimeoutMs);
        const next = await guard.race(iterator.next());
        guard.clearDeadline();
        guard.disarmIdle();
        if (next.done === true) break;
        const delta = accumulator.add(next.value as Parameters<GeminiResponseAccumulator['add']>[0]);
        if (delta !== '') yield { type: 'delta', content: delta };
      }
      const result = accumulator.finish(true);
      done = true;
      yield { type: 'final', result };
    } catch (err: unknown) {
      throw this.toProviderError(err, guard, exchange, request.model);
    } finally {
      // A consumer that stops early (or an error) must not leave the request running.
      guard.dispose(done);
      if (iterator?.return !== undefined) {
        iterator.return().catch(() => undefined);
      }
    }
  }

  private parameters(request: CompletionRequest, guard: CallGuard, exchange: Exchange): GenerateContentParameters {
    const { contents, systemInstruction, tools } = toGeminiRequest(request.messages, request.tools);
    const observingFetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      exchange.status = response.status;
      exchange.headers = response.headers;
      return response;
    };
    const config: GenerateContentConfig = {
      abortSignal: guard.signal,
      automaticFunctionCalling: { disable: true },
      automaticContinuation: false,
      httpOptions: {
        fetch: observingFetch,
        ...(this.options.forwardIntent === true && request.intent !== undefined
          ? { headers: { [FakeServerHeaders.intent]: request.intent } }
          : {}),
      },
    };
    if (systemInstruction !== undefined) config.systemInstruction = systemInstruction;
    if (tools !== undefined) config.tools = tools;
    if (request.maxOutputTokens !== undefined) config.maxOutputTokens = request.maxOutputTokens;
    return { model: request.model, contents, config };
  }

  /** Any failure of a call → a provider error (ours pass through; the key never appears). */
  private toProviderError(err: unknown, guard: CallGuard, exchange: Exchange, model: string): OperationalError | UserError {
    if (err instanceof OperationalError || err instanceof UserError) return err;
    const ctx = {
      model,
      keyVariable: this.options.keyVariable,
      apiKey: this.options.apiKey,
      now: this.now(),
      ...(exchange.headers === undefined ? {} : { headers: exchange.headers }),
    };
    const details = { model, ...(exchange.status === undefined ? {} : { status: exchange.status }) };
    switch (guard.cause) {
      case 'cancelled':
        return geminiError(ProviderErrorCodes.cancelled, 'the Gemini call was cancelled by its caller', details, ctx, err);
      case 'timeout':
        return geminiError(
          ProviderErrorCodes.timeout,
          exchange.status === undefined
            ? `Gemini did not answer within ${guard.limitMs} ms`
            : `Gemini sent no response within ${guard.limitMs} ms`,
          { ...details, timeoutMs: guard.limitMs },
          ctx,
          err,
        );
      case 'idle':
        return geminiError(
          ProviderErrorCodes.timeout,
          `the Gemini stream stalled: nothing arrived for ${guard.limitMs} ms`,
          { ...details, timeoutMs: guard.limitMs },
          ctx,
          err,
        );
      case 'cleanup':
      case undefined:
        break;
    }
    if (isApiError(err)) return fromGeminiHttpError(err.status, err.message, ctx, err);
    const text = redactSecret(isErrorLike(err) ? err.message : String(err), this.options.apiKey);
    const network = networkCodeOf(err);
    if (network === 'UND_ERR_HEADERS_TIMEOUT' || network === 'UND_ERR_BODY_TIMEOUT') {
      return geminiError(ProviderErrorCodes.timeout, `Gemini did not answer in time (${network})`, details, ctx, err);
    }
    // By name, not instanceof: the fetch implementation may live in another realm (test sandboxes).
    const name = isErrorLike(err) ? err.name : '';
    if (name === 'SyntaxError' || text.startsWith('exception parsing stream chunk') || text === 'Response body is empty') {
      return geminiError(
        ProviderErrorCodes.malformedResponse,
        `Gemini sent a response that is not valid JSON: ${text.slice(0, 300)}`,
        details,
        ctx,
        err,
      );
    }
    if (exchange.status !== undefined) {
      return geminiError(
        ProviderErrorCodes.streamInterrupted,
        `the Gemini response broke off before it was complete: ${network ?? text}`,
        details,
        ctx,
        err,
      );
    }
    if (network !== undefined || (name === 'TypeError' && /fetch failed/i.test(text))) {
      return geminiError(
        ProviderErrorCodes.unavailable,
        `could not reach Gemini at ${this.options.baseUrl ?? GEMINI_DEFAULT_BASE_URL}: ${network ?? text}`,
        details,
        ctx,
        err,
      );
    }
    return geminiError(ProviderErrorCodes.badRequest, `the Gemini SDK rejected the request: ${text}`, details, ctx, err);
  }
}
