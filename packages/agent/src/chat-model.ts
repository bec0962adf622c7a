/**
 * The model as the agent loop sees it: one call per turn. The executor implements it over the
 * router's gRPC `Complete`; tests implement it over `ScriptedProvider` directly.
 */
import type { ChatMessage, FinishReason, ToolSpec, Usage } from '@maestro/llm';

/** One turn's request: the conversation as the condenser derived it from the whole history, and the tools on offer. */
export interface ChatModelRequest {
  /**
   * The whole conversation while it fits the model's context policy; past that, the system
   * prompt, the task, the pinned facts, a summary of older turns and the recent turns. The
   * condensed prefix stays byte-identical between condensations, so a provider's prefix cache
   * keeps hitting.
   */
  messages: ChatMessage[];
  tools: ToolSpec[];
  /**
   * Aborts when the loop's wall-clock budget runs out or its caller cancels (executor shutdown):
   * an implementation should pass it on (a gRPC deadline or cancel, a fetch signal) so the call
   * stops costing tokens. The loop stops waiting at that moment either way.
   */
  signal?: AbortSignal;
}

/** One turn's reply, with who produced it (a scripted reply says so). */
export interface ChatModelReply {
  message: ChatMessage;
  /** The call's tokens; `cachedInputTokens` (served from the provider's prompt cache) when the provider reports it. */
  usage: Usage;
  /** True when the reply was replayed from a script rather than produced by a model. */
  scripted: boolean;
  provider: string;
  model: string;
  /**
   * What the call cost, when the implementation knows (the router prices every call it serves):
   * `usd` is 0 and means unknown when `priced` is false. Absent when nobody priced the call.
   */
  cost?: { usd: number; priced: boolean };
  /**
   * Why the model stopped, when the implementation knows. `malformed_tool_call` (Gemini
   * `MALFORMED_FUNCTION_CALL`: the model wrote a tool call the provider could not parse) makes the
   * reply a parse error the loop sends back to the model, never a final answer. Absent: the reply
   * is read by its content and tool calls alone.
   */
  finishReason?: FinishReason;
}

/** What the agent loop talks to. */
export interface ChatModel {
  complete(request: ChatModelRequest): Promise<ChatModelReply>;
}
