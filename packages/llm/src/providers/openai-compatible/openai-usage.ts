/**
 * Reads the `usage` object of a Chat Completions response or chunk (OpenAI, DeepSeek, xAI,
 * Azure spell it slightly differently) into our {@link Usage}, and estimates usage when a
 * server sent none.
 */
import type { CompletionRequest } from '../../chat-provider.js';
import type { ChatMessage, Usage } from '../../messages.js';
import { countMessageTokens, countTokens, o200kCounter } from '../../token-counter.js';

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Our usage from a wire `usage` object, or `undefined` when there is none (absent, `null`, or
 * without token counts).
 *
 * - `cachedInputTokens`: `prompt_tokens_details.cached_tokens`, else DeepSeek's
 *   `prompt_cache_hit_tokens`; set only when the provider reported it.
 * - `reasoningTokens`: `completion_tokens_details.reasoning_tokens`, else a top-level
 *   `reasoning_tokens` (Azure-hosted DeepSeek); set only when reported.
 * - `outputTokens` includes reasoning. OpenAI and DeepSeek already count it in
 *   `completion_tokens`; xAI does not (its `total_tokens` = prompt + completion + reasoning),
 *   so when the total says the reasoning was left out, it is added back.
 */
export function toUsage(raw: unknown): Usage | undefined {
  const usage = asRecord(raw);
  if (usage === undefined) return undefined;
  const prompt = count(usage['prompt_tokens']);
  const completion = count(usage['completion_tokens']);
  if (prompt === undefined && completion === undefined) return undefined;
  const cached = count(asRecord(usage['prompt_tokens_details'])?.['cached_tokens']) ?? count(usage['prompt_cache_hit_tokens']);
  const reasoning = count(asRecord(usage['completion_tokens_details'])?.['reasoning_tokens']) ?? count(usage['reasoning_tokens']);
  const input = prompt ?? 0;
  let output = completion ?? 0;
  const total = count(usage['total_tokens']);
  if (reasoning !== undefined && reasoning > 0 && total !== undefined && total !== input + output && total === input + output + reasoning) {
    output += reasoning;
  }
  const result: Usage = { inputTokens: input, outputTokens: output };
  if (cached !== undefined) result.cachedInputTokens = cached;
  if (reasoning !== undefined) result.reasoningTokens = reasoning;
  return result;
}

/**
 * Usage counted locally with `o200k_base` when the server reported none (a stream from a server
 * that ignores `stream_options.include_usage`, a compatible server without `usage`): the
 * conversation and tool specs as input, the reply's content, reasoning and tool calls as output.
 * An estimate, not the provider's bill; zeros would make budgets and prices silently wrong.
 */
export function estimateUsage(request: Pick<CompletionRequest, 'messages' | 'tools'>, message: ChatMessage): Usage {
  const calls = message.toolCalls ?? [];
  return {
    inputTokens: countMessageTokens(request.messages) + o200kCounter.countToolTokens(request.tools),
    outputTokens:
      countTokens(message.content) +
      countTokens(message.reasoning ?? '') +
      calls.reduce((sum, call) => sum + countTokens(call.name) + countTokens(call.argumentsJson), 0),
  };
}
