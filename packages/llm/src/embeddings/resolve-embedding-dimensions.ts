/**
 * Decides an embedder's vector length from the model it uses and the length asked for, and
 * whether to ask the provider for it on the wire: the one rule behind `openai:<model>[:<dims>]`
 * and `gemini:<model>[:<dims>]`.
 */
import { invalidField } from '@maestro/runtime';
import type { EmbeddingModelInfo } from './embedding-models.js';

/** Longest vector we accept to store (pgvector's limit for an indexable `vector` is far lower). */
export const MAX_EMBEDDING_DIMENSIONS = 16_000;

/** The resolved length and whether the request must carry it. */
export interface ResolvedDimensions {
  dimensions: number;
  /** Send `dimensions` / `outputDimensionality`: the model must shorten its vectors. */
  send: boolean;
}

/**
 * A known model without a requested length gives its native length (nothing sent); a shorter
 * length is sent when the model is reducible and rejected otherwise; an unknown model needs the
 * length said, and `sendWhenUnknown` decides whether it goes on the wire (Gemini accepts
 * `outputDimensionality` for every current model; OpenAI-compatible servers often reject
 * `dimensions` for models that cannot shorten). Bad values are INVALID_ARGUMENT naming `dimensions`.
 */
export function resolveEmbeddingDimensions(
  info: EmbeddingModelInfo | undefined,
  requested: number | undefined,
  context: { provider: string; model: string; sendWhenUnknown: boolean },
): ResolvedDimensions {
  const { provider, model } = context;
  if (requested === undefined) {
    if (info === undefined) {
      throw invalidField(
        'dimensions',
        `the length of ${provider} model "${model}"'s vectors is not known here; say it in the spec: ${provider}:${model}:<dimensions>`,
      );
    }
    return { dimensions: info.nativeDimensions, send: false };
  }
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_EMBEDDING_DIMENSIONS) {
    throw invalidField('dimensions', `must be an integer from 1 to ${MAX_EMBEDDING_DIMENSIONS}, got ${String(requested)}`);
  }
  if (info === undefined) return { dimensions: requested, send: context.sendWhenUnknown };
  if (requested === info.nativeDimensions) return { dimensions: requested, send: false };
  if (!info.reducible || requested > info.nativeDimensions) {
    throw invalidField(
      'dimensions',
      `${provider} model "${model}" gives ${info.nativeDimensions}-dimension vectors` +
        (info.reducible ? ` and can shorten them, not lengthen them to ${requested}` : ` and cannot be asked for ${requested}`),
    );
  }
  return { dimensions: requested, send: true };
}
