/**
 * The embedder for any OpenAI-compatible `/embeddings` endpoint (OpenAI, vLLM, Ollama,
 * LiteLLM, gateways), through the official `openai` SDK's `embeddings.create`.
 *
 * On the wire it asks what the SDK asks by default, `encoding_format: "base64"` (little-endian
 * float32, a quarter of the JSON size), but it sets the format itself and decodes the answer
 * itself: the SDK, when it picked base64 on its own, decodes whatever comes back as base64, and a
 * server that ignores the format and answers float arrays would come out as garbage. Here
 * either answer reads right.
 *
 * Blank texts get the zero vector without a request; the rest go in batches of `maxBatchSize`,
 * each batch retried on its own (Retry-After honoured, bounded). Errors are the chat adapter's
 * mapping (`openai-errors.ts`), with the key never in a message. Vectors are checked (count,
 * dimension, finite) and L2-normalised.
 */
import { OpenAI } from 'openai';
import { invalidField, systemClock, type Clock } from '@maestro/runtime';
import { OPENAI_DEFAULT_BASE_URL } from '../create-provider.js';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import { CallGuard } from '../providers/call-guard.js';
import { toProviderError, type OpenAIErrorContext } from '../providers/openai-compatible/openai-errors.js';
import { compileRetryOptions, type CompiledRetryOptions, type RetryOptions } from '../resilience/retry-policy.js';
import type { RetryInfo } from '../resilience/retrying-provider.js';
import type { EmbedOptions, Embedder, EmbeddingResult, EmbeddingUsage } from './embedder.js';
import { EMBEDDER_RETRY_DEFAULTS, EMBEDDER_TIMEOUT_MS_DEFAULT, EmbeddingBatchLimits, embeddingModelInfo } from './embedding-models.js';
import { checkEmbeddings } from './embedding-vectors.js';
import { embedInBatches } from './embed-in-batches.js';
import { resolveEmbeddingDimensions } from './resolve-embedding-dimensions.js';

/** Options of {@link OpenAIEmbedder}. */
export interface OpenAIEmbedderOptions {
  /** The model id (`text-embedding-3-small`, or a local server's model name). */
  model: string;
  /** The API key; never in an error message or detail. */
  apiKey: string;
  /** The endpoint. @default 'https://api.openai.com/v1' */
  baseURL?: string;
  /** The variable the key came from, named in auth errors. @default 'OPENAI_API_KEY' */
  keyVariable?: string;
  /** The provider's name in the embedder id and errors. @default 'openai' */
  name?: string;
  /**
   * Length of the vectors. For a known model (see `KnownEmbeddingModels`) it defaults to the
   * model's native length, and a shorter one is asked for with `dimensions` when the model
   * supports it; for any other model it is required and only checked against the answers.
   */
  dimensions?: number;
  /**
   * Send `dimensions` on the wire. @default true exactly when `dimensions` differs from a known
   * model's native length
   */
  sendDimensions?: boolean;
  /** Most texts per request. @default 2048 */
  maxBatchSize?: number;
  /** `base64` (as the SDK asks by default) or `float`. @default 'base64' */
  encodingFormat?: 'base64' | 'float';
  /** Deadline of one request. @default 30000 */
  timeoutMs?: number;
  /** Retries of one batch; see {@link EMBEDDER_RETRY_DEFAULTS} for the defaults. */
  retry?: RetryOptions;
  /** Before each retry wait (for logs). */
  onRetry?: (info: RetryInfo) => void;
  /** Waits between retries and `Retry-After` dates. @default systemClock */
  clock?: Clock;
}

/** Decodes one `embedding` field: a base64 string of little-endian float32, or a number array. */
export function decodeEmbedding(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length % 4 !== 0) return undefined;
  const out: number[] = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i += 1) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw invalidField(field, `must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * An {@link Embedder} over an OpenAI-compatible `/embeddings` endpoint.
 *
 * @example
 * const embedder = new OpenAIEmbedder({ model: 'text-embedding-3-small', apiKey: config.openaiApiKey, dimensions: 512 });
 * embedder.id; // 'openai:text-embedding-3-small:512'
 * const [vector] = await embedder.embed(['tests need TZ=UTC']);
 */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly local = false;
  private readonly name: string;
  private readonly model: string;
  private readonly apiKey: string;
  private readonly baseURL: string;
  private readonly keyVariable: string;
  private readonly sendDimensions: boolean;
  private readonly maxBatchSize: number;
  private readonly encodingFormat: 'base64' | 'float';
  private readonly timeoutMs: number;
  private readonly policy: CompiledRetryOptions;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly clock: Clock;
  private readonly client: OpenAI;
  private readonly billed: EmbeddingUsage = { inputTokens: 0 };

  constructor(options: OpenAIEmbedderOptions) {
    this.name = options.name ?? 'openai';
    this.model = options.model;
    this.apiKey = options.apiKey;
    this.baseURL = options.baseURL || OPENAI_DEFAULT_BASE_URL;
    this.keyVariable = options.keyVariable ?? 'OPENAI_API_KEY';
    if (options.model.trim() === '') throw invalidField('model', 'must name the embedding model');
    if (options.apiKey.trim() === '') {
      throw providerError(ProviderErrorCodes.keyMissing, `the ${this.name} embedder needs an API key: set ${this.keyVariable}`, {
        provider: this.name,
        keyVariable: this.keyVariable,
      });
    }
    const resolved = resolveEmbeddingDimensions(embeddingModelInfo('openai', options.model), options.dimensions, {
      provider: this.name,
      model: options.model,
      // The native length of an unknown model cannot be asked for by name: only declared.
      sendWhenUnknown: false,
    });
    this.dimensions = resolved.dimensions;
    this.sendDimensions = options.sendDimensions ?? resolved.send;
    this.id = `${this.name}:${options.model}:${this.dimensions}`;
    this.maxBatchSize = positiveInteger(options.maxBatchSize, EmbeddingBatchLimits.openai, 'maxBatchSize');
    this.encodingFormat = options.encodingFormat ?? 'base64';
    this.timeoutMs = positiveInteger(options.timeoutMs, EMBEDDER_TIMEOUT_MS_DEFAULT, 'timeoutMs');
    this.policy = compileRetryOptions({ ...EMBEDDER_RETRY_DEFAULTS, ...options.retry });
    this.onRetry = options.onRetry;
    this.clock = options.clock ?? systemClock;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: this.baseURL,
      // Retries are ours (per batch, on the injected clock); the SDK makes exactly one attempt.
      maxRetries: 0,
      timeout: this.timeoutMs,
      // Explicit, so the SDK reads nothing from the environment (OPENAI_ORG_ID, OPENAI_LOG …).
      organization: null,
      project: null,
      logLevel: 'off',
    });
  }

  /** Input tokens billed over every call of this embedder so far. */
  get usage(): EmbeddingUsage {
    return { ...this.billed };
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    return (await this.embedWithUsage(texts, options)).vectors;
  }

  /** {@link embed}, also returning the input tokens the provider billed for this call. */
  embedWithUsage(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    return embedInBatches(texts, this.dimensions, this.maxBatchSize, (batch) => this.embedBatch(batch, options.signal), {
      provider: this.name,
      clock: this.clock,
      policy: this.policy,
      signal: options.signal,
      onRetry: this.onRetry,
    });
  }

  /** One request for one batch. */
  private async embedBatch(batch: readonly string[], signal: AbortSignal | undefined): Promise<EmbeddingResult> {
    const call = new CallGuard(signal);
    call.startDeadline(this.timeoutMs);
    let finished = false;
    try {
      if (call.cause !== undefined) throw new Error('aborted before the request was sent');
      const body: OpenAI.EmbeddingCreateParams = {
        model: this.model,
        input: [...batch],
        encoding_format: this.encodingFormat,
        ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
      };
      const response: unknown = await this.client.embeddings.create(body, { signal: call.signal });
      const result = this.read(response, batch.length);
      finished = true;
      return result;
    } catch (err) {
      throw toProviderError(err, this.errorContext(call));
    } finally {
      call.dispose(finished);
    }
  }

  /** The vectors (in input order, by `index` when given) and usage of a response body. */
  private read(response: unknown, count: number): EmbeddingResult {
    const root = response !== null && typeof response === 'object' ? (response as Record<string, unknown>) : {};
    const data = Array.isArray(root['data']) ? (root['data'] as unknown[]) : undefined;
    if (data === undefined) {
      throw providerError(ProviderErrorCodes.malformedResponse, `the ${this.name} provider answered without a data list (${this.id})`, {
        provider: this.name,
        model: this.model,
      });
    }
    const ordered: unknown[][] = new Array<unknown[]>(data.length);
    data.forEach((raw, position) => {
      const item = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
      const index = typeof item['index'] === 'number' ? item['index'] : position;
      const vector = decodeEmbedding(item['embedding']);
      if (vector === undefined || index < 0 || index >= data.length || ordered[index] !== undefined) {
        throw providerError(
          ProviderErrorCodes.malformedResponse,
          `the ${this.name} provider sent an unreadable embedding at position ${position} (${this.id})`,
          { provider: this.name, model: this.model, position },
        );
      }
      ordered[index] = vector;
    });
    const vectors = checkEmbeddings(ordered, count, { embedderId: this.id, provider: this.name, dimensions: this.dimensions });
    const usage = root['usage'] !== null && typeof root['usage'] === 'object' ? (root['usage'] as Record<string, unknown>) : {};
    const promptTokens = usage['prompt_tokens'];
    const inputTokens = typeof promptTokens === 'number' && Number.isFinite(promptTokens) ? promptTokens : 0;
    this.billed.inputTokens += inputTokens;
    return { vectors, usage: { inputTokens } };
  }

  private errorContext(call: CallGuard): OpenAIErrorContext {
    return {
      provider: this.name,
      keyVariable: this.keyVariable,
      apiKey: this.apiKey,
      baseURL: this.baseURL,
      model: this.model,
      phase: 'request',
      abortCause: call.cause,
      timeoutMs: this.timeoutMs,
      idleTimeoutMs: this.timeoutMs,
      now: this.clock.now(),
    };
  }
}
