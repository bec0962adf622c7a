/**
 * The conversation types every part of CodeMaestro speaks (plain objects, shaped like the
 * proto `maestro.v1.ChatMessage` / `ToolCall` / `ToolSpec`), and the conversions to and from
 * the generated proto types used on the wire.
 */
import type {
  ChatMessage as ProtoChatMessage,
  ToolCall as ProtoToolCall,
  ToolSpec as ProtoToolSpec,
} from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';

/** The speakers of a conversation, as the proto spells them. */
export const ChatRoles = {
  system: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
} as const;
/** One of {@link ChatRoles}. */
export type ChatRole = (typeof ChatRoles)[keyof typeof ChatRoles];

/** A model's request to run one tool; `argumentsJson` is kept as the model wrote it (maybe invalid JSON). */
export interface ToolCall {
  /** Unique within the conversation; the `tool` message answering it repeats it. */
  id: string;
  name: string;
  /** A JSON object in text form, exactly as the model produced it. */
  argumentsJson: string;
  /**
   * Gemini's opaque `thoughtSignature` on the `functionCall` part; Gemini requires it back on
   * the next turn, so it travels with the call. Absent for other providers.
   */
  thoughtSignature?: string;
}

/** One message of a conversation with a model. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Tool calls the assistant asked for (role `assistant` only). */
  toolCalls?: ToolCall[];
  /** The call this message answers (role `tool` only). */
  toolCallId?: string;
  /** The tool's name (role `tool` only). */
  name?: string;
  /**
   * The model's reasoning (DeepSeek `reasoning_content`, Gemini thought parts), kept apart from
   * `content`: shown to people, never sent back as the answer.
   */
  reasoning?: string;
  /** Gemini's `thoughtSignature` on the text of an assistant message, carried back on the next turn. */
  thoughtSignature?: string;
}

/** A JSON object (the shape of a JSON Schema, or of tool arguments). */
export type JsonObject = { [key: string]: unknown };

/** A tool offered to the model: its name, what it does, and the JSON Schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonObject;
}

/**
 * Tokens spent by one completion (or summed over several). `inputTokens` includes the cached
 * ones; `outputTokens` includes the reasoning ones (how OpenAI, DeepSeek and our accounting
 * count them; Gemini's `thoughtsTokenCount` is added to its candidates count).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Of `inputTokens`, how many were served from the provider's prompt cache. @default 0 */
  cachedInputTokens?: number;
  /** Of `outputTokens`, how many were reasoning (thinking) tokens. @default 0 */
  reasoningTokens?: number;
}

/**
 * Why a model stopped: a plain answer, a request for tools, the output limit, or a tool call
 * the model wrote that the provider could not parse (Gemini `MALFORMED_FUNCTION_CALL`): the
 * agent treats that as a parse error and may ask again within its budget.
 */
export const FinishReasons = {
  stop: 'stop',
  toolCalls: 'tool_calls',
  length: 'length',
  malformedToolCall: 'malformed_tool_call',
} as const;
/** One of {@link FinishReasons}. */
export type FinishReason = (typeof FinishReasons)[keyof typeof FinishReasons];

/** True when `value` names one of the four chat roles. */
export function isChatRole(value: string): value is ChatRole {
  return Object.values(ChatRoles).includes(value as ChatRole);
}

/** Converts a message to the proto type for a gRPC request or response (empty strings for absent fields). */
export function toProtoMessage(message: ChatMessage): ProtoChatMessage {
  return {
    role: message.role,
    content: message.content,
    toolCalls: (message.toolCalls ?? []).map(toProtoToolCall),
    toolCallId: message.toolCallId ?? '',
    name: message.name ?? '',
    reasoning: message.reasoning ?? '',
    thoughtSignature: message.thoughtSignature ?? '',
  };
}

/**
 * Converts a proto message into the plain type, validating what the proto cannot (the role,
 * tool call names). `field` names the message in errors, which use proto field names
 * (`messages[2].role`, `messages[2].tool_calls[0].name`), so a caller learns which one is wrong.
 */
export function fromProtoMessage(message: ProtoChatMessage, field = 'message'): ChatMessage {
  if (!isChatRole(message.role)) {
    throw invalidField(
      `${field}.role`,
      `must be one of ${Object.values(ChatRoles).join(', ')}, got "${message.role}"`,
    );
  }
  const out: ChatMessage = { role: message.role, content: message.content };
  if (message.toolCalls.length > 0) {
    out.toolCalls = message.toolCalls.map((call, i) => {
      if (call.name === '') throw invalidField(`${field}.tool_calls[${i}].name`, 'must not be empty');
      const converted: ToolCall = { id: call.id, name: call.name, argumentsJson: call.argumentsJson };
      if (call.thoughtSignature !== '') converted.thoughtSignature = call.thoughtSignature;
      return converted;
    });
  }
  if (message.toolCallId !== '') out.toolCallId = message.toolCallId;
  if (message.name !== '') out.name = message.name;
  if (message.reasoning !== '') out.reasoning = message.reasoning;
  if (message.thoughtSignature !== '') out.thoughtSignature = message.thoughtSignature;
  return out;
}

/** Converts a whole conversation from the wire, naming the bad message (`messages[i]`) on error. */
export function fromProtoMessages(messages: readonly ProtoChatMessage[], field = 'messages'): ChatMessage[] {
  return messages.map((m, i) => fromProtoMessage(m, `${field}[${i}]`));
}

/** Converts a tool call to the proto type. */
export function toProtoToolCall(call: ToolCall): ProtoToolCall {
  return { id: call.id, name: call.name, argumentsJson: call.argumentsJson, thoughtSignature: call.thoughtSignature ?? '' };
}

/** Converts a tool spec to the proto type (`parameters` travels as a `google.protobuf.Struct`). */
export function toProtoToolSpec(spec: ToolSpec): ProtoToolSpec {
  return { name: spec.name, description: spec.description, parameters: spec.parameters };
}

/** Converts a proto tool spec into the plain type; a spec without parameters gets an empty object schema. */
export function fromProtoToolSpec(spec: ProtoToolSpec, field = 'tool'): ToolSpec {
  if (spec.name === '') throw invalidField(`${field}.name`, 'must not be empty');
  return {
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters ?? { type: 'object', properties: {} },
  };
}
