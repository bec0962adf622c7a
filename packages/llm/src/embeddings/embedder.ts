/**
 * The port every embedding backend implements: text in, unit-length vectors out. Memory keeps
 * vectors per embedder `id`, so changing the embedder re-embeds rather than mixing spaces.
 */

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
   * One vector per text, in order, each of length `dimensions` and L2-normalised. Failures are
   * the runtime's errors: `OperationalError` when the provider is down or overloaded (callers
   * degrade to keyword search), `UserError` for a request it refuses.
   */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<number[][]>;
}
