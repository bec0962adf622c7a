/**
 * Our {@link CompletionRequest} as Chat Completions parameters: messages, function tools and the
 * output limit. Tool call arguments travel as the text we hold (never re-serialized), so what a
 * model wrote is what it sees again.
 */
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { CompletionRequest } from '../../chat-provider.js';
import type { ChatMessage, ToolSpec } from '../../messages.js';

/** How the output limit is spelled: OpenAI's current models want `max_completion_tokens`, most compatible servers `max_tokens`. */
export type MaxTokensParam = 'max_tokens' | 'max_completion_tokens';

/** Choices that differ between OpenAI-compatible servers. */
export interface OpenAIRequestOptions {
  maxTokensParam: MaxTokensParam;
  /**
   * Send an assistant message's `reasoning` back as `reasoning_content` when it made tool calls.
   * DeepSeek's thinking mode requires it for tool-call turns (400 without); OpenAI would reject
   * the unknown field, so it is off for other providers.
   */
  sendReasoning: boolean;
}

/** One of our messages as a Chat Completions message. Gemini thought signatures are not sent. */
export function toOpenAIMessage(message: ChatMessage, options: Pick<OpenAIRequestOptions, 'sendReasoning'>): ChatCompletionMessageParam {
  const named = message.name !== undefined && message.name !== '' ? { name: message.name } : {};
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content, ...named };
    case 'user':
      return { role: 'user', content: message.content, ...named };
    case 'tool':
      // Chat Completions has no `name` on tool messages: the id ties the result to its call.
      return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      const out: ChatCompletionMessageParam & Record<string, unknown> = {
        role: 'assistant',
        // OpenAI's convention for a turn that only calls tools.
        content: message.content === '' && calls.length > 0 ? null : message.content,
        ...named,
      };
      if (calls.length > 0) {
        out.tool_calls = calls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.argumentsJson },
        }));
        if (options.sendReasoning && message.reasoning !== undefined && message.reasoning !== '') {
          out['reasoning_content'] = message.reasoning;
        }
      }
      return out;
    }
  }
}

/** A tool spec as a Chat Completions function tool (the description is left out when empty). */
export function toOpenAITool(spec: ToolSpec): ChatCompletionTool {
  return {
    type: 'function',
    function: {
      name: spec.name,
      ...(spec.description !== '' ? { description: spec.description } : {}),
      parameters: spec.parameters,
    },
  };
}

/**
 * The non-streaming parameters for `request`; the provider adds `stream` and `stream_options`.
 * `tools` is left out when there are none (some servers reject an empty list), and so is the
 * output limit when the request has none.
 */
export function toOpenAIRequest(request: CompletionRequest, options: OpenAIRequestOptions): ChatCompletionCreateParamsNonStreaming {
  const params: ChatCompletionCreateParamsNonStreaming = {
    model: request.model,
    messages: request.messages.map((m) => toOpenAIMessage(m, options)),
  };
  if (request.tools.length > 0) params.tools = request.tools.map(toOpenAITool);
  if (request.maxOutputTokens !== undefined) params[options.maxTokensParam] = request.maxOutputTokens;
  return params;
}
