/**
 * The batching every provider embedder shares: blank texts get the all-zero vector without a
 * request (providers reject empty input with a 400 that would fail the whole batch, and the
 * local embedder gives blank text the zero vector too); the rest go in requests of at most
 * `maxBatchSize` texts, one after another, each retried on its own; vectors come back in input
 * order and usage is summed.
 */
import type { EmbeddingResult } from './embedder.js';
import { retryEmbeddingCall, type EmbeddingRetryContext } from './retry-embedding-call.js';

/** Sends one batch (already free of blank texts) and returns its checked vectors. */
export type EmbedBatch = (batch: readonly string[]) => Promise<EmbeddingResult>;

/** Embeds `texts` in batches; see the module comment. */
export async function embedInBatches(
  texts: readonly string[],
  dimensions: number,
  maxBatchSize: number,
  embedBatch: EmbedBatch,
  retry: EmbeddingRetryContext,
): Promise<EmbeddingResult> {
  const vectors: number[][] = texts.map(() => new Array<number>(dimensions).fill(0));
  const pending = texts.flatMap((text, index) => (text.trim() === '' ? [] : [index]));
  let inputTokens = 0;
  let billableCharacters: number | undefined;
  for (let start = 0; start < pending.length; start += maxBatchSize) {
    const indices = pending.slice(start, start + maxBatchSize);
    const result = await retryEmbeddingCall(() => embedBatch(indices.map((i) => texts[i] ?? '')), retry);
    indices.forEach((textIndex, k) => {
      vectors[textIndex] = result.vectors[k] ?? [];
    });
    inputTokens += result.usage.inputTokens;
    if (result.usage.billableCharacters !== undefined) billableCharacters = (billableCharacters ?? 0) + result.usage.billableCharacters;
  }
  return { vectors, usage: { inputTokens, ...(billableCharacters !== undefined ? { billableCharacters } : {}) } };
}
