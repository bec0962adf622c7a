/**
 * `@maestro/llm`: everything about talking to models. Conversation types (and their proto
 * conversions), the {@link ChatProvider} port, the deterministic {@link ScriptedProvider},
 * offline token counting (`o200k_base`), prices, the Gemini and OpenAI-compatible adapters
 * (official SDKs), the provider error taxonomy, and the resilience layer (retries, circuit
 * breakers, fallbacks).
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
