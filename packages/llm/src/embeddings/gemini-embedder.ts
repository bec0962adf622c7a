/**
 * The Gemini embedder, through `@google/genai`'s `models.embedContent`: on the Gemini API the
 * SDK posts every call to `:batchEmbedContents` (one `requests[]` entry per text), with the
 * `taskType` our `purpose` maps to (`RETRIEVAL_DOCUMENT` for stored texts, `RETRIEVAL_QUERY`
 * for the search text) and `outputDimensionality` when a shorter vector is asked for.
 *
 * Vertex AI in express mode (an API key, no project) is the same call on another backend
 * (`:predict` with `instances[]`, or `:embedContent` for newer Gemini models); it is here so
 * recorded Vertex payloads read the same, and is chosen only by the `vertex` option.
 *
 * One HTTP attempt per request (the SDK's own retries off), batches of `maxBatchSize` retried on
 * their own by our policy, errors mapped by `gemini-errors.ts` (the key never in a message),
 * vectors checked and L2-normalised (reduced Gemini vectors are not unit length).
 */
import { ApiError, GoogleGenAI, type EmbedContentConfig, type EmbedContentResponse } from '@google/genai';
import { OperationalError, UserError, invalidField, systemClock, type Clock } from '@maestro/runtime';
import { ProviderErrorCodes } from '../provider-errors.js';
import { CallGuard } from '../providers/call-guard.js';
import { GEMINI_DEFAULT_BASE_URL } from '../providers/gemini/gemini-provider.js';
import { fromGeminiHttpError, geminiError, isErrorLike, networkCodeOf } from '../providers/gemini/gemini-errors.js';
import { redactSecret } from '../redact-secret.js';
import { compileRetryOptions, type CompiledRetryOptions, type RetryOptions } from '../resilience/retry-policy.js';
import type { RetryInfo } from '../resilience/retrying-provider.js';
import { EmbedPurposes, type EmbedOptions, type EmbedPurpose, type Embedder, type EmbeddingResult, type EmbeddingUsage } from './embedder.js';
import { EMBEDDER_RETRY_DEFAULTS, EMBEDDER_TIMEOUT_MS_DEFAULT, EmbeddingBatchLimits, embeddingModelInfo } from './embedding-models.js';
import { checkEmbeddings } from './embedding-vectors.js';
import { embedInBatches } from './embed-in-batches.js';
import { resolveEmbeddingDimensions } from './resolve-embedding-dimensions.js';

/** Gemini's task types for our purposes. */
export const GeminiTaskTypes: Readonly<Record<EmbedPurpose, string>> = {
  document: 'RETRIEVAL_DOCUMENT',
  query: 'RETRIEVAL_QUERY',
};

/** Options of {@link GeminiEmbedder}. */
export interface GeminiEmbedderOptions {
  /** The model id (`gemini-embedding-001`). */
  model: string;
  /** The API key; sent only in the SDK's `x-goog-api-key` header, never in an error. */
  apiKey: string;
  /** The API root (a fake server in tests). @default 'https://generativelanguage.googleapis.com' */
  baseUrl?: string;
  /** The variable the key came from, named in auth errors. @default 'GEMINI_API_KEY' */
  keyVariable?: string;
  /**
   * Length of the vectors: defaults to a known model's native length (see
   * `KnownEmbeddingModels`), required for other models; a shorter one is asked for with
   * `outputDimensionality`.
   */
  dimensions?: number;
  /** Send `outputDimensionality`. @default true exactly when `dimensions` differs from the native length, or the model is unknown */
  sendDimensions?: boolean;
  /**
   * Most texts per request. @default 100 (the Gemini API's limit per `batchEmbedContents`); 1
   * with `vertex` (Vertex's Gemini embedding models take one text per request)
   */
  maxBatchSize?: number;
  /** Vertex AI express mode (API key, no project) instead of the Gemini API. @default false */
  vertex?: boolean;
  /** Deadline of one request. @default 30000 */
  timeoutMs?: number;
  /** Retries of one batch; see {@link EMBEDDER_RETRY_DEFAULTS} for the defaults. */
  retry?: RetryOptions;
  /** Before each retry wait (for logs). */
  onRetry?: (info: RetryInfo) => void;
  /** Waits between retries and `retry-after` dates. @default systemClock */
  clock?: Clock;
}

/** The SDK's HTTP error (by class, or by shape should two copies of the SDK be loaded). */
function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError || (isErrorLike(err) && err.name === 'ApiError' && typeof (err as { status?: unknown }).status === 'number');
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw invalidField(field, `must be a positive integer, got ${String(value)}`);
  return value;
}

/** What the HTTP exchange of one request showed (through the SDK's `httpOptions.fetch` hook). */
interface Exchange {
  status?: number;
  headers?: Headers;
}

/**
 * An {@link Embedder} over Gemini's embedding API.
 *
 * @example
 * const embedder = new GeminiEmbedder({ model: 'gemini-embedding-001', apiKey: config.geminiApiKey, dimensions: 768 });
 * const [query] = await embedder.embed(['why do tests fail at midnight'], { purpose: 'query' });
 */
export class GeminiEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly local = false;
  private readonly model: string;
  private readonly apiKey: string;
  private readonly baseUrl: string;
  private readonly keyVariable: string;
  private readonly sendDimensions: boolean;
  private readonly maxBatchSize: number;
  private readonly timeoutMs: number;
  private readonly policy: CompiledRetryOptions;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly clock: Clock;
  private readonly client: GoogleGenAI;
  private readonly billed: EmbeddingUsage = { inputTokens: 0 };

  constructor(options: GeminiEmbedderOptions) {
    this.model = options.model;
    this.apiKey = options.apiKey;
    this.keyVariable = options.keyVariable ?? 'GEMINI_API_KEY';
    this.baseUrl = options.baseUrl || GEMINI_DEFAULT_BASE_URL;
    if (options.model.trim() === '') throw invalidField('model', 'must name the embedding model');
    if (options.apiKey.trim() === '') {
      throw geminiError(ProviderErrorCodes.keyMissing, `the gemini embedder needs an API key: set ${this.keyVariable}`, { keyVariable: this.keyVariable }, options);
    }
    const resolved = resolveEmbeddingDimensions(embeddingModelInfo('gemini', options.model), options.dimensions, {
      provider: 'gemini',
      model: options.model,
      sendWhenUnknown: true,
    });
    this.dimensions = resolved.dimensions;
    this.sendDimensions = options.sendDimensions ?? resolved.send;
    this.id = `gemini:${options.model}:${this.dimensions}`;
    this.maxBatchSize = positiveInteger(options.maxBatchSize, options.vertex === true ? 1 : EmbeddingBatchLimits.gemini, 'maxBatchSize');
    this.timeoutMs = positiveInteger(options.timeoutMs, EMBEDDER_TIMEOUT_MS_DEFAULT, 'timeoutMs');
    this.policy = compileRetryOptions({ ...EMBEDDER_RETRY_DEFAULTS, ...options.retry });
    this.onRetry = options.onRetry;
    this.clock = options.clock ?? systemClock;
    this.client = new GoogleGenAI({
      apiKey: options.apiKey,
      // Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot switch the backend.
      vertexai: options.vertex === true,
      httpOptions: {
        baseUrl: this.baseUrl,
        // One attempt: retries (with the provider's retry delay) are ours.
        retryOptions: { attempts: 1 },
      },
    });
  }

  /** Input tokens (and Vertex's billable characters) over every call so far; the Gemini API reports neither. */
  get usage(): EmbeddingUsage {
    return { ...this.billed };
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  /** {@link embed}, also returning the input tokens reported for this call (0 when not reported). */
  embedWithUsage(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    const purpose = options.purpose ?? EmbedPurposes.document;
    return embedInBatches(texts, this.dimensions, this.maxBatchSize, (batch) => this.embedBatch(batch, purpose, options.signal), {
      provider: 'gemini',
      clock: this.clock,
      policy: this.policy,
      signal: options.signal,
      onRetry: this.onRetry,
    });
  }

  private async embedBatch(batch: readonly string[], purpose: EmbedPurpose, signal: AbortSignal | undefined): Promise<EmbeddingResult> {
    const guard = new CallGuard(signal);
    const exchange: Exchange = {};
    guard.startDeadline(this.timeoutMs);
    let finished = false;
    try {
      if (guard.cause !== undefined) throw new Error('aborted before the request was sent');
      const observingFetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
        const response = await fetch(input, init);
        exchange.status = response.status;
        exchange.headers = response.headers;
        return response;
      };
      const config: EmbedContentConfig = {
        abortSignal: guard.signal,
        taskType: GeminiTaskTypes[purpose],
        httpOptions: { fetch: observingFetch },
        ...(this.sendDimensions ? { outputDimensionality: this.dimensions } : {}),
      };
      const response = await guard.race(this.client.models.embedContent({ model: this.model, contents: [...batch], config }));
      const result = this.read(response, batch.length);
      finished = true;
      return result;
    } catch (err) {
      throw this.toProviderError(err, guard, exchange);
    } finally {
      guard.dispose(finished);
    }
  }

  private read(response: EmbedContentResponse, count: number): EmbeddingResult {
    const embeddings = response.embeddings ?? [];
    const raw = embeddings.map((embedding) => (Array.isArray(embedding.values) ? embedding.values : []));
    const vectors = checkEmbeddings(raw, count, { embedderId: this.id, provider: 'gemini', dimensions: this.dimensions });
    const inputTokens = embeddings.reduce((sum, embedding) => sum + (embedding.statistics?.tokenCount ?? 0), 0);
    const billableCharacters = response.metadata?.billableCharacterCount;
    this.billed.inputTokens += inputTokens;
    if (billableCharacters !== undefined) this.billed.billableCharacters = (this.billed.billableCharacters ?? 0) + billableCharacters;
    return { vectors, usage: { inputTokens, ...(billableCharacters !== undefined ? { billableCharacters } : {}) } };
  }

  /** Any failure of a request → a provider error (ours pass through; the key never appears). */
  private toProviderError(err: unknown, guard: CallGuard, exchange: Exchange): OperationalError | UserError {
    if (err instanceof OperationalError || err instanceof UserError) return err;
    const model = this.model;
    const ctx = {
      model,
      keyVariable: this.keyVariable,
      apiKey: this.apiKey,
      now: this.clock.now(),
      ...(exchange.headers === undefined ? {} : { headers: exchange.headers }),
    };
    const details = { model, ...(exchange.status === undefined ? {} : { status: exchange.status }) };
    if (guard.cause === 'cancelled') {
      return geminiError(ProviderErrorCodes.cancelled, 'the Gemini embedding call was cancelled by its caller', details, ctx, err);
    }
    if (guard.cause === 'timeout') {
      return geminiError(ProviderErrorCodes.timeout, `Gemini did not answer the embedding request within ${guard.limitMs} ms`, { ...details, timeoutMs: guard.limitMs }, ctx, err);
    }
    if (isApiError(err)) return fromGeminiHttpError(err.status, err.message, ctx, err);
    const text = redactSecret(isErrorLike(err) ? err.message : String(err), this.apiKey);
    const network = networkCodeOf(err);
    const name = isErrorLike(err) ? err.name : '';
    if (name === 'SyntaxError' || text === 'Response body is empty') {
      return geminiError(ProviderErrorCodes.malformedResponse, `Gemini sent an embedding response that is not valid JSON: ${text.slice(0, 300)}`, details, ctx, err);
    }
    if (network !== undefined || (name === 'TypeError' && /fetch failed/i.test(text))) {
      return geminiError(ProviderErrorCodes.unavailable, `could not reach Gemini at ${this.baseUrl}: ${network ?? text}`, details, ctx, err);
    }
    if (exchange.status !== undefined) {
      return geminiError(ProviderErrorCodes.unavailable, `the Gemini embedding response broke off: ${text}`, details, ctx, err);
    }
    return geminiError(ProviderErrorCodes.badRequest, `the Gemini SDK rejected the embedding request: ${text}`, details, ctx, err);
  }
}
