/**
 * Turns a Chat Completions answer (a whole `chat.completion` body, or the parts the stream
 * assembler collected) into our {@link CompletionResult}. Everything is read defensively:
 * compatible servers omit `type`, send `null` where OpenAI sends nothing, add fields of their
 * own. Nothing here throws anything but our provider errors.
 */
import type { CompletionRequest, CompletionResult } from '../../chat-provider.js';
import { FinishReasons, type ChatMessage, type FinishReason, type ToolCall } from '../../messages.js';
import { ProviderErrorCodes } from '../../provider-errors.js';
import { openAIProviderError } from './openai-errors.js';
import { estimateUsage, toUsage } from './openai-usage.js';

/** What a reply is made of, however it arrived. */
export interface OpenAIReplyParts {
  content: string;
  /** `reasoning_content` (DeepSeek, xAI) or `reasoning` (some gateways); '' when none. */
  reasoning: string;
  /** OpenAI's `refusal`; '' when none. */
  refusal: string;
  toolCalls: ToolCall[];
  /** The wire `finish_reason` (`stop`, `tool_calls`, `length`, `content_filter` …), if any. */
  finishReason: string | undefined;
  /** The wire `usage` object, if any. */
  usage: unknown;
}

/** What the mapping needs besides the reply. */
export interface ReplyContext {
  provider: string;
  model: string;
  apiKey: string;
  /** The reply came from a fake server replaying a script (`x-maestro-fake: scripted`). */
  scripted: boolean;
  request: Pick<CompletionRequest, 'messages' | 'tools'>;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A text field that may be a string, `null`, absent, or (rarely) an array of text parts. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    return value.map((part) => (typeof asRecord(part)?.['text'] === 'string' ? (asRecord(part)?.['text'] as string) : '')).join('');
  }
  return '';
}

/** Tool arguments exactly as the model wrote them; an object (non-standard servers) is serialized once. */
export function argumentsTextOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

/** Gemini's OpenAI-compatible endpoint carries `extra_content.google.thought_signature` on calls. */
export function thoughtSignatureOf(call: Record<string, unknown>): string | undefined {
  const signature = asRecord(asRecord(call['extra_content'])?.['google'])?.['thought_signature'];
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

/** A complete wire tool call (non-streaming) as ours; `position` makes an id when the server gave none. */
function toolCallFromWire(raw: unknown, position: number): ToolCall | undefined {
  const call = asRecord(raw);
  if (call === undefined) return undefined;
  const fn = asRecord(call['function']) ?? asRecord(call['custom']);
  const name = typeof fn?.['name'] === 'string' ? fn['name'] : '';
  const argumentsJson = argumentsTextOf(fn?.['arguments'] ?? fn?.['input']);
  if (name === '' && argumentsJson === '') return undefined;
  const id = typeof call['id'] === 'string' && call['id'] !== '' ? call['id'] : `call_${position}`;
  const out: ToolCall = { id, name, argumentsJson };
  const signature = thoughtSignatureOf(call);
  if (signature !== undefined) out.thoughtSignature = signature;
  return out;
}

/**
 * Our finish reason. `length` stays `length` (even with tool calls: their arguments are cut);
 * otherwise any tool call makes it `tool_calls` — a forced `tool_choice` answers with
 * `finish_reason: "stop"` and the calls — and everything else (`stop`, `null`, unknown values
 * from compatible servers) is `stop`.
 */
function toFinishReason(wire: string | undefined, hasToolCalls: boolean): FinishReason {
  if (wire === 'length') return FinishReasons.length;
  if (hasToolCalls) return FinishReasons.toolCalls;
  return FinishReasons.stop;
}

/**
 * The result for a finished reply, or the error it stands for: a refusal or a `content_filter`
 * stop is `MODEL_REFUSED` (retrying the same prompt will not help), DeepSeek's
 * `insufficient_system_resource` is `PROVIDER_UNAVAILABLE`. Missing usage is estimated
 * ({@link estimateUsage}).
 */
export function finishReply(parts: OpenAIReplyParts, ctx: ReplyContext): CompletionResult {
  const p = ctx.provider;
  if (parts.refusal !== '') {
    throw openAIProviderError(ctx, ProviderErrorCodes.refused, `the ${p} model ${ctx.model} refused: ${parts.refusal}`, {
      finishReason: parts.finishReason ?? 'refusal',
      refusal: parts.refusal,
    });
  }
  if (parts.finishReason === 'content_filter') {
    throw openAIProviderError(
      ctx,
      ProviderErrorCodes.refused,
      `the ${p} provider's content filter stopped the answer of ${ctx.model}${parts.content === '' ? '' : ' part-way'}; rephrase the request`,
      { finishReason: parts.finishReason },
    );
  }
  if (parts.finishReason === 'insufficient_system_resource') {
    throw openAIProviderError(ctx, ProviderErrorCodes.unavailable, `the ${p} provider stopped the answer for lack of resources (finish_reason insufficient_system_resource)`, {
      finishReason: parts.finishReason,
    });
  }
  const message: ChatMessage = { role: 'assistant', content: parts.content };
  if (parts.toolCalls.length > 0) message.toolCalls = parts.toolCalls;
  if (parts.reasoning !== '') message.reasoning = parts.reasoning;
  return {
    message,
    usage: toUsage(parts.usage) ?? estimateUsage(ctx.request, message),
    finishReason: toFinishReason(parts.finishReason, parts.toolCalls.length > 0),
    scripted: ctx.scripted,
  };
}

/** Reads `reasoning_content` (DeepSeek, xAI), else `reasoning` (some gateways), from a message or delta. */
export function reasoningOf(message: Record<string, unknown>): string {
  const primary = message['reasoning_content'];
  if (typeof primary === 'string') return primary;
  const secondary = message['reasoning'];
  return typeof secondary === 'string' ? secondary : '';
}

/**
 * The result of a non-streaming `chat.completion` body. A body that is not an object or has no
 * choice with a message is `PROVIDER_MALFORMED_RESPONSE`.
 */
export function fromChatCompletion(body: unknown, ctx: ReplyContext): CompletionResult {
  const p = ctx.provider;
  const root = asRecord(body);
  if (root === undefined) {
    const what = typeof body === 'string' ? `text instead of JSON (${body.slice(0, 200)})` : `a ${body === null ? 'null' : typeof body} body`;
    throw openAIProviderError(ctx, ProviderErrorCodes.malformedResponse, `the ${p} provider answered 200 with ${what}`);
  }
  const choices = Array.isArray(root['choices']) ? root['choices'] : [];
  const choice = asRecord(choices.find((c) => asRecord(c)?.['index'] === 0) ?? choices[0]);
  const message = asRecord(choice?.['message']);
  if (choice === undefined || message === undefined) {
    throw openAIProviderError(ctx, ProviderErrorCodes.malformedResponse, `the ${p} provider answered 200 without a choice to read (choices: ${choices.length})`);
  }
  const rawCalls = Array.isArray(message['tool_calls']) ? message['tool_calls'] : [];
  const toolCalls = rawCalls.map((c, i) => toolCallFromWire(c, i)).filter((c): c is ToolCall => c !== undefined);
  // The legacy `function_call` (we never ask for it, but old servers may answer with it).
  if (toolCalls.length === 0) {
    const legacy = toolCallFromWire({ function: message['function_call'] }, 0);
    if (legacy !== undefined) toolCalls.push(legacy);
  }
  const finish = choice['finish_reason'];
  return finishReply(
    {
      content: textOf(message['content']),
      reasoning: reasoningOf(message),
      refusal: typeof message['refusal'] === 'string' ? message['refusal'] : '',
      toolCalls,
      finishReason: typeof finish === 'string' ? finish : undefined,
      usage: root['usage'],
    },
    ctx,
  );
}
