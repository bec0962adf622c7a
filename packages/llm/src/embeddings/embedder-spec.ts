/**
 * Embedder specs: how configuration names an embedder (`MAESTRO_MEMORY_EMBEDDER`):
 * `local[:<dimensions>]`, `openai:<model>[:<dimensions>]`, `gemini:<model>[:<dimensions>]`.
 * A model id may itself contain colons (`openai:nomic-embed-text:latest`); only an all-digit
 * last segment is read as the dimension.
 */
import { invalidField } from '@maestro/runtime';

/** Embedding backends a spec can name. */
export const EmbedderProviders = { local: 'local', openai: 'openai', gemini: 'gemini' } as const;
/** One of {@link EmbedderProviders}. */
export type EmbedderProvider = (typeof EmbedderProviders)[keyof typeof EmbedderProviders];

/** A parsed embedder spec. */
export interface EmbedderSpec {
  provider: EmbedderProvider;
  /** The provider's model id; absent for `local`. */
  model?: string;
  /** The vector length asked for; absent means the default (384 local, the model's native length otherwise). */
  dimensions?: number;
  /** The spec as written (trimmed), for messages. */
  spec: string;
}

/** The configuration variable that holds the spec, named in errors by default. */
export const EMBEDDER_SPEC_VARIABLE = 'MAESTRO_MEMORY_EMBEDDER';

const SHAPE = 'local[:<dimensions>], openai:<model>[:<dimensions>] or gemini:<model>[:<dimensions>]';

/**
 * Parses an embedder spec; a malformed one is INVALID_ARGUMENT naming `field` and saying what a
 * valid spec looks like.
 *
 * @example
 * parseEmbedderSpec('openai:text-embedding-3-small:512');
 * // { provider: 'openai', model: 'text-embedding-3-small', dimensions: 512, spec: '…' }
 */
export function parseEmbedderSpec(spec: string, field: string = EMBEDDER_SPEC_VARIABLE): EmbedderSpec {
  const trimmed = spec.trim();
  const fail = (why: string) => invalidField(field, `embedder spec "${spec}" ${why}; expected ${SHAPE}`);
  const colon = trimmed.indexOf(':');
  const provider = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const rest = colon === -1 ? '' : trimmed.slice(colon + 1);
  if (trimmed === '') throw fail('is empty');
  const dimensionsOf = (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw fail(`has a dimension "${text}" that is not a positive integer`);
    return value;
  };
  switch (provider) {
    case EmbedderProviders.local: {
      if (colon === -1) return { provider, spec: trimmed };
      return { provider, dimensions: dimensionsOf(rest), spec: trimmed };
    }
    case EmbedderProviders.openai:
    case EmbedderProviders.gemini: {
      const last = rest.lastIndexOf(':');
      const tail = last === -1 ? '' : rest.slice(last + 1);
      const hasDimensions = /^\d+$/.test(tail);
      const model = (hasDimensions ? rest.slice(0, last) : rest).trim();
      if (model === '') throw fail('has no model');
      return hasDimensions ? { provider, model, dimensions: dimensionsOf(tail), spec: trimmed } : { provider, model, spec: trimmed };
    }
    default:
      throw fail(`names an unknown embedder "${provider}"`);
  }
}
