/**
 * `@maestro/llm`: everything about talking to models. Conversation types (and their proto
 * conversions), the {@link ChatProvider} port, the deterministic {@link ScriptedProvider},
 * offline token counting (`o200k_base`) and prices. Real adapters (Gemini, OpenAI-compatible)
 * are not built yet: {@link createProvider} says so instead of pretending.
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
export { defaultPriceTable, priceOf, costOf, type ModelPrice, type PriceTable } from './prices.js';
export { ProviderNames, parseModelSpec, type ProviderName, type ModelSpec } from './model-spec.js';
export { createProvider, type ProviderOptions } from './create-provider.js';
