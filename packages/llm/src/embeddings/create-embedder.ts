/**
 * The embedder factory: an embedder spec plus the environment's keys and endpoints → an
 * {@link Embedder}. A missing key names its variable (never a key); a bad dimension or model
 * is INVALID_ARGUMENT naming the spec's variable, so a service fails at start saying what to fix.
 */
import { UserError, type Clock } from '@maestro/runtime';
import { ProviderErrorCodes } from '../provider-errors.js';
import type { RetryOptions } from '../resilience/retry-policy.js';
import type { RetryInfo } from '../resilience/retrying-provider.js';
import type { Embedder } from './embedder.js';
import { EMBEDDER_SPEC_VARIABLE, parseEmbedderSpec, type EmbedderSpec } from './embedder-spec.js';
import { GeminiEmbedder } from './gemini-embedder.js';
import { LocalHashEmbedder } from './local-hash-embedder.js';
import { OpenAIEmbedder } from './openai-embedder.js';

/**
 * The variables a provider embedder reads, as `loadConfig()` hands them over (`process.env`
 * fits too). Empty strings count as unset.
 */
export interface EmbedderEnvironment {
  OPENAI_API_KEY?: string | undefined;
  /** Any OpenAI-compatible endpoint. @default the OpenAI API */
  OPENAI_BASE_URL?: string | undefined;
  GEMINI_API_KEY?: string | undefined;
  /** @default the Gemini API */
  MAESTRO_GEMINI_BASE_URL?: string | undefined;
}

/** Tuning shared by the provider embedders (each has its own defaults). */
export interface CreateEmbedderOptions {
  /** The variable the spec came from, named in errors. @default 'MAESTRO_MEMORY_EMBEDDER' */
  field?: string;
  clock?: Clock;
  retry?: RetryOptions;
  onRetry?: (info: RetryInfo) => void;
  timeoutMs?: number;
  maxBatchSize?: number;
}

function keyOf(env: EmbedderEnvironment, variable: 'OPENAI_API_KEY' | 'GEMINI_API_KEY', spec: EmbedderSpec): string {
  const key = env[variable]?.trim() ?? '';
  if (key === '') {
    throw new UserError(ProviderErrorCodes.keyMissing, `embedder "${spec.spec}" needs an API key in ${variable}, which is not set`, {
      reason: 'precondition',
      details: { provider: spec.provider, keyVariable: variable },
    });
  }
  return key;
}

/**
 * Creates the embedder a spec names.
 *
 * @example
 * const embedder = createEmbedder(config.memoryEmbedder, config); // 'local' → LocalHashEmbedder (384)
 */
export function createEmbedder(spec: string | EmbedderSpec, env: EmbedderEnvironment, options: CreateEmbedderOptions = {}): Embedder {
  const field = options.field ?? EMBEDDER_SPEC_VARIABLE;
  const parsed = typeof spec === 'string' ? parseEmbedderSpec(spec, field) : spec;
  const shared = {
    ...(parsed.dimensions !== undefined ? { dimensions: parsed.dimensions } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(options.onRetry !== undefined ? { onRetry: options.onRetry } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
  };
  try {
    switch (parsed.provider) {
      case 'local':
        return new LocalHashEmbedder(parsed.dimensions !== undefined ? { dimensions: parsed.dimensions } : {});
      case 'openai': {
        const apiKey = keyOf(env, 'OPENAI_API_KEY', parsed);
        const baseURL = env.OPENAI_BASE_URL?.trim();
        return new OpenAIEmbedder({ ...shared, model: parsed.model ?? '', apiKey, ...(baseURL ? { baseURL } : {}) });
      }
      case 'gemini': {
        const apiKey = keyOf(env, 'GEMINI_API_KEY', parsed);
        const baseUrl = env.MAESTRO_GEMINI_BASE_URL?.trim();
        return new GeminiEmbedder({ ...shared, model: parsed.model ?? '', apiKey, ...(baseUrl ? { baseUrl } : {}) });
      }
    }
  } catch (err) {
    // A bad dimension or model is a mistake in the spec: say which variable holds it.
    if (err instanceof UserError && err.code === 'INVALID_ARGUMENT' && err.field !== field) {
      throw new UserError('INVALID_ARGUMENT', `${field}: embedder "${parsed.spec}": ${err.message}`, { field, reason: 'invalid', cause: err });
    }
    throw err;
  }
}
