/**
 * What every provider embedder checks on what came back before anyone stores it: one vector per
 * text, of the embedder's dimension, finite numbers only; then L2 normalisation, so cosine
 * similarity is a dot product whatever the provider sends (Gemini's reduced
 * `outputDimensionality` vectors, for one, are not unit length).
 */
import { UserError } from '@maestro/runtime';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';

/** `vector` scaled to length 1; the all-zero vector stays zero (it has no direction). */
export function normaliseVector(vector: readonly number[]): number[] {
  let sumOfSquares = 0;
  for (const value of vector) sumOfSquares += value * value;
  const norm = Math.sqrt(sumOfSquares);
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

/** Who produced a batch of vectors, for the error messages. */
export interface EmbeddingSource {
  /** The embedder id (`openai:text-embedding-3-small:1536`). */
  embedderId: string;
  /** `openai`, `gemini` … (`details.provider`). */
  provider: string;
  dimensions: number;
}

/**
 * Checks a provider's answer for `expectedCount` texts and returns the vectors normalised.
 * A vector of another length is a `UserError` INVALID_ARGUMENT naming `embedding` (the
 * configured dimension does not match what the model gives: a configuration mistake, not
 * something a retry fixes); a missing vector or a value that is not a finite number is a
 * malformed response (`PROVIDER_MALFORMED_RESPONSE`, operational).
 */
export function checkEmbeddings(
  vectors: readonly (readonly unknown[])[],
  expectedCount: number,
  source: EmbeddingSource,
): number[][] {
  if (vectors.length !== expectedCount) {
    throw providerError(
      ProviderErrorCodes.malformedResponse,
      `the ${source.provider} provider returned ${vectors.length} embeddings for ${expectedCount} texts (${source.embedderId})`,
      { provider: source.provider, expected: expectedCount, received: vectors.length },
    );
  }
  return vectors.map((vector, index) => {
    if (vector.length !== source.dimensions) {
      throw new UserError(
        'INVALID_ARGUMENT',
        `embedding: the ${source.provider} provider returned a vector of ${vector.length} dimensions for text ${index}, ` +
          `but ${source.embedderId} expects ${source.dimensions}; set the dimension in the embedder spec ` +
          `(<provider>:<model>:<dimensions>) to what the model gives`,
        {
          field: 'embedding',
          reason: 'invalid',
          details: { provider: source.provider, expected: source.dimensions, received: vector.length, index },
        },
      );
    }
    const bad = vector.findIndex((value) => typeof value !== 'number' || !Number.isFinite(value));
    if (bad !== -1) {
      throw providerError(
        ProviderErrorCodes.malformedResponse,
        `the ${source.provider} provider returned a vector for text ${index} whose value ${bad} is not a finite number (${source.embedderId})`,
        { provider: source.provider, index },
      );
    }
    return normaliseVector(vector as readonly number[]);
  });
}
