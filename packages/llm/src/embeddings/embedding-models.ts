/**
 * What we know about providers' embedding models, as data: each model's native dimension and
 * whether it can be asked for shorter vectors (OpenAI `dimensions`, Gemini
 * `outputDimensionality`), and how many texts one request may carry. A model missing here still
 * works; its spec must then say the dimension (`openai:<model>:<dimensions>`).
 */

/** One known embedding model. */
export interface EmbeddingModelInfo {
  /** Length of the vectors the model returns when no dimension is asked for. */
  nativeDimensions: number;
  /** True when the provider accepts a shorter dimension for this model (Matryoshka-trained). */
  reducible: boolean;
}

/** Known models per provider. */
export const KnownEmbeddingModels: Readonly<Record<'openai' | 'gemini', Readonly<Record<string, EmbeddingModelInfo>>>> = {
  openai: {
    'text-embedding-3-small': { nativeDimensions: 1536, reducible: true },
    'text-embedding-3-large': { nativeDimensions: 3072, reducible: true },
    'text-embedding-ada-002': { nativeDimensions: 1536, reducible: false },
  },
  gemini: {
    'gemini-embedding-001': { nativeDimensions: 3072, reducible: true },
    'text-embedding-004': { nativeDimensions: 768, reducible: true },
    'text-embedding-005': { nativeDimensions: 768, reducible: true },
    'text-multilingual-embedding-002': { nativeDimensions: 768, reducible: true },
  },
};

/** The known facts about `model` of `provider` (`models/…` prefixes ignored), if any. */
export function embeddingModelInfo(provider: 'openai' | 'gemini', model: string): EmbeddingModelInfo | undefined {
  const bare = model.replace(/^models\//, '');
  return Object.hasOwn(KnownEmbeddingModels[provider], bare) ? KnownEmbeddingModels[provider][bare] : undefined;
}

/**
 * Most texts per request: OpenAI's `/embeddings` takes at most 2048 inputs, Gemini's
 * `batchEmbedContents` at most 100 requests. Servers with lower limits (small
 * OpenAI-compatible servers) take `maxBatchSize`.
 */
export const EmbeddingBatchLimits = { openai: 2048, gemini: 100 } as const;

/**
 * Retry policy of provider embedders. Tighter than chat's: recall waits for the query's
 * vector, and when the embedder is down memory falls back to keyword search rather than wait.
 */
export const EMBEDDER_RETRY_DEFAULTS = {
  maxAttempts: 3,
  maxElapsedMs: 10_000,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
} as const;

/** Whole-call deadline of one embedding request. */
export const EMBEDDER_TIMEOUT_MS_DEFAULT = 30_000;
