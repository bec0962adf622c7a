/**
 * The port every embedding backend implements: text in, unit-length vectors out. Memory keeps
 * vectors per embedder `id`, so changing the embedder re-embeds rather than mixing spaces.
 */

/**
 * What the texts will be used for. Some models embed stored texts and search queries
 * differently (Gemini's `RETRIEVAL_DOCUMENT` / `RETRIEVAL_QUERY` task types); embedders without
 * the distinction ignore it.
 */
export const EmbedPurposes = { document: 'document', query: 'query' } as const;
export type EmbedPurpose = (typeof EmbedPurposes)[keyof typeof EmbedPurposes];

/** Options of one {@link Embedder.embed} call. */
export interface EmbedOptions {
  /** Cancels the call (and any retry wait). */
  signal?: AbortSignal;
  /**
   * `document` for texts that are stored and searched, `query` for the search text.
   * @default 'document'
   */
  purpose?: EmbedPurpose;
}

/** Tokens a provider billed for embedding, when it says (the local embedder bills none). */
export interface EmbeddingUsage {
  inputTokens: number;
  /** Characters billed, where the provider bills by character (Vertex reports it). */
  billableCharacters?: number;
}

/** One call's vectors and what the provider billed for them (provider embedders' `embedWithUsage`). */
export interface EmbeddingResult {
  vectors: number[][];
  usage: EmbeddingUsage;
}

/** Turns texts into vectors of one fixed dimension. */
export interface Embedder {
  /**
   * Names the vector space: provider, model and dimension (`local:hash-v1:384`,
   * `openai:text-embedding-3-small:1536`). Two embedders with the same id give comparable vectors.
   */
  readonly id: string;
  readonly dimensions: number;
  /** True for the local deterministic embedder (no model involved); recall says so. */
  readonly local: boolean;
  /**
   * One vector per text, in order, each of length `dimensions` and L2-normalised; a blank text
   * gets the all-zero vector (similar to nothing; a cosine operator that divides by the norm,
   * such as pgvector's `<=>`, gives NaN for it, so callers skip it). Failures are
   * the runtime's errors: `OperationalError` when the provider is down or overloaded (callers
   * degrade to keyword search), `UserError` for a request it refuses.
   */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
  /**
   * Input tokens billed since this embedder was created, summed over calls (0 for the local
   * embedder, and for providers that do not report usage).
   */
  readonly usage?: EmbeddingUsage;
}
