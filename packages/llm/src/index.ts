/**
 * `@maestro/llm`: everything about talking to models. Conversation types (and their proto
 * conversions), the {@link ChatProvider} port, the deterministic {@link ScriptedProvider},
 * offline token counting (`o200k_base`), prices, the Gemini and OpenAI-compatible adapters
 * (official SDKs), the provider error taxonomy, the resilience layer (retries, circuit
 * breakers, fallbacks), and the {@link Embedder} port with its embedders (`createEmbedder`:
 * the deterministic local hash embedder, OpenAI-compatible, Gemini).
 *
 * @example
 * import { createProvider, parseModelSpec } from '@maestro/llm';
 * const spec = parseModelSpec('scripted');
 * const provider = createProvider(spec, { scriptPath: './demo-script.json' });
 * const result = await provider.complete({
 *   model: spec.model, intent: 'plan', tools: [],
 *   messages: [{ role: 'user', content: 'Add a sum function' }],
 * });
 * result.scripted; // true
 */
export {
  ChatRoles,
  FinishReasons,
  isChatRole,
  toProtoMessage,
  fromProtoMessage,
  fromProtoMessages,
  toProtoToolCall,
  toProtoToolSpec,
  fromProtoToolSpec,
  type ChatRole,
  type ChatMessage,
  type ToolCall,
  type ToolSpec,
  type Usage,
  type FinishReason,
  type JsonObject,
} from './messages.js';
export type {
  ChatProvider,
  CompletionRequest,
  CompletionResult,
  CompletionStreamEvent,
} from './chat-provider.js';
export {
  ScriptedProvider,
  ScriptSchema,
  parseScript,
  loadScript,
  type Script,
  type ScriptRule,
} from './scripted-provider.js';
export {
  createTokenCounter,
  o200kCounter,
  encodeTokens,
  countTokens,
  countMessageTokens,
  type TokenCounter,
  type EncodeOptions,
} from './token-counter.js';
export {
  defaultPriceTable,
  parsePriceTable,
  loadPriceTable,
  priceOf,
  priceUsage,
  costOf,
  type ModelPrice,
  type PriceTable,
  type UsageCost,
} from './prices.js';
export { ProviderNames, parseModelSpec, type ProviderName, type ModelSpec } from './model-spec.js';
export {
  createProvider,
  ProviderKeyVariables,
  DEEPSEEK_DEFAULT_BASE_URL,
  OPENAI_DEFAULT_BASE_URL,
  type ProviderOptions,
  type ProviderCredentials,
} from './create-provider.js';
export {
  ProviderErrorCodes,
  providerError,
  isRetryableProviderError,
  retryAfterMsOf,
  parseRetryAfter,
  parseDurationMs,
  type ProviderErrorCode,
  type ProviderErrorDetails,
} from './provider-errors.js';
export { GeminiProvider, type GeminiProviderOptions } from './providers/gemini/gemini-provider.js';
export {
  OpenAICompatibleProvider,
  type OpenAICompatibleProviderOptions,
} from './providers/openai-compatible/openai-compatible-provider.js';
export * from './resilience/index.js';
export { FakeServerHeaders, SCRIPTED_REPLY } from './fake-server-headers.js';
export { redactSecret, redactSecretDeep } from './redact-secret.js';
export { assistantTurns, condensedTurnsNote } from './condensed-turns.js';
export {
  EmbedPurposes,
  type Embedder,
  type EmbedOptions,
  type EmbedPurpose,
  type EmbeddingUsage,
  type EmbeddingResult,
} from './embeddings/embedder.js';
export {
  LocalHashEmbedder,
  LOCAL_HASH_EMBEDDER_DEFAULTS,
  type LocalHashEmbedderOptions,
} from './embeddings/local-hash-embedder.js';
export { OpenAIEmbedder, decodeEmbedding, type OpenAIEmbedderOptions } from './embeddings/openai-embedder.js';
export { GeminiEmbedder, GeminiTaskTypes, type GeminiEmbedderOptions } from './embeddings/gemini-embedder.js';
export {
  EmbedderProviders,
  EMBEDDER_SPEC_VARIABLE,
  parseEmbedderSpec,
  type EmbedderProvider,
  type EmbedderSpec,
} from './embeddings/embedder-spec.js';
export {
  createEmbedder,
  type EmbedderEnvironment,
  type CreateEmbedderOptions,
} from './embeddings/create-embedder.js';
export {
  KnownEmbeddingModels,
  EmbeddingBatchLimits,
  EMBEDDER_RETRY_DEFAULTS,
  EMBEDDER_TIMEOUT_MS_DEFAULT,
  embeddingModelInfo,
  type EmbeddingModelInfo,
} from './embeddings/embedding-models.js';
export { normaliseVector, checkEmbeddings, type EmbeddingSource } from './embeddings/embedding-vectors.js';
export { MAX_EMBEDDING_DIMENSIONS } from './embeddings/resolve-embedding-dimensions.js';
