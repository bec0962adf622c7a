/**
 * Every environment variable the memory service reads, declared once. `loadConfig` in
 * `main.ts` and `migrate.ts` validates them all at start and names any bad one.
 */
import { parseEmbedderSpec } from '@maestro/llm';
import type { EmbedderSpec } from '@maestro/llm';
import { commonEnv, env, grpcAddrEnv, metricsPortEnv } from '@maestro/runtime';
import type { ConfigOf, EnvVar } from '@maestro/runtime';
import { EMBEDDING_SPACES_DEFAULTS } from './app/embedding-spaces.js';
import { MEMORY_SERVICE_DEFAULTS } from './app/memory-service.js';
import { REEMBEDDER_DEFAULTS } from './app/reembedder.js';
import { REFLEX_POLICY_DEFAULTS } from './domain/confidence.js';

/** The embedder spec variable, parsed (and so checked) at start. */
function embedderSpec(name: string, defaultSpec: string, doc: string): EnvVar<EmbedderSpec> {
  return { name, doc, default: parseEmbedderSpec(defaultSpec, name), parse: (raw) => parseEmbedderSpec(raw, name) };
}

/** A number from `min` to `max` (decimals allowed). */
function fraction(name: string, options: { default: number; min: number; max: number; doc: string }): EnvVar<number> {
  return {
    name,
    doc: options.doc,
    default: options.default,
    parse: (raw) => {
      const value = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(value) || value < options.min || value > options.max) {
        throw new Error(`expected a number from ${options.min} to ${options.max}, got "${raw}"`);
      }
      return value;
    },
  };
}

/** The memory service's configuration spec (see the README's table). */
export const memoryConfigSpec = {
  logLevel: commonEnv.logLevel,
  databaseUrl: commonEnv.databaseUrl,
  otlpEndpoint: commonEnv.otlpEndpoint,
  grpcAddr: grpcAddrEnv.memory,
  metricsHost: commonEnv.metricsHost,
  grpcTlsCa: commonEnv.grpcTlsCa,
  grpcTlsCert: commonEnv.grpcTlsCert,
  grpcTlsKey: commonEnv.grpcTlsKey,
  grpcTlsRefreshS: commonEnv.grpcTlsRefreshS,
  grpcPlaintext: commonEnv.grpcPlaintext,
  grpcHealthPort: commonEnv.grpcHealthPort,
  metricsPort: metricsPortEnv.memory,
  embedder: embedderSpec(
    'MAESTRO_MEMORY_EMBEDDER',
    'local',
    'embedder for vector recall: local[:<dimensions>] (deterministic, no model), openai:<model>[:<dimensions>] or gemini:<model>[:<dimensions>]; a change re-embeds in the background',
  ),
  embedTimeoutMs: env.int('MAESTRO_MEMORY_EMBED_TIMEOUT_MS', {
    default: EMBEDDING_SPACES_DEFAULTS.embedTimeoutMs,
    min: 100,
    max: 120_000,
    doc: 'longest wait for one embedder call; past it recall is keyword only and a write leaves the vector to the re-embedder',
  }),
  minSimilarity: fraction('MAESTRO_MEMORY_MIN_SIMILARITY', {
    default: MEMORY_SERVICE_DEFAULTS.minSimilarity,
    min: -1,
    max: 1,
    doc: 'cosine similarity below which a vector match is not a hit (depends on the embedder)',
  }),
  reembedIntervalMs: env.int('MAESTRO_MEMORY_REEMBED_INTERVAL_MS', {
    default: REEMBEDDER_DEFAULTS.intervalMs,
    min: 1_000,
    doc: 'wait between re-embedding passes when nothing is left to embed (a busy pass is followed at once)',
  }),
  reembedBatchSize: env.int('MAESTRO_MEMORY_REEMBED_BATCH', {
    default: REEMBEDDER_DEFAULTS.batchSize,
    min: 1,
    max: 2_048,
    doc: 'memories embedded per re-embedding pass (one embedder call)',
  }),
  reflexHalfLifeDays: env.int('MAESTRO_MEMORY_REFLEX_HALF_LIFE_DAYS', {
    default: REFLEX_POLICY_DEFAULTS.halfLifeDays,
    min: 1,
    doc: "days for a learned reflex's effective confidence to halve since its last confirmation",
  }),
  reflexTtlDays: env.int('MAESTRO_MEMORY_REFLEX_TTL_DAYS', {
    default: REFLEX_POLICY_DEFAULTS.ttlDays,
    min: 1,
    doc: 'days after its last confirmation when a learned reflex expires',
  }),
  openaiApiKey: env.string('OPENAI_API_KEY', { default: '', doc: 'API key for an openai:* embedder (required when one is configured); never logged' }),
  openaiBaseUrl: env.url('OPENAI_BASE_URL', {
    default: '',
    protocols: ['http:', 'https:'],
    doc: "OpenAI-compatible base URL for an openai:* embedder; empty uses the SDK's default",
  }),
  geminiApiKey: env.string('GEMINI_API_KEY', { default: '', doc: 'API key for a gemini:* embedder (required when one is configured); never logged' }),
  geminiBaseUrl: env.url('MAESTRO_GEMINI_BASE_URL', {
    default: '',
    protocols: ['http:', 'https:'],
    doc: "Gemini API base URL for a gemini:* embedder; empty uses the SDK's default",
  }),
} as const;

/** The memory service's validated, frozen configuration. */
export type MemoryConfig = ConfigOf<typeof memoryConfigSpec>;
