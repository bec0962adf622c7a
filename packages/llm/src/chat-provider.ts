/**
 * The port every model provider adapter implements; the router talks to models only through it.
 */
import type { ChatMessage, FinishReason, ToolSpec, Usage } from './messages.js';

/** One completion request to a provider. */
export interface CompletionRequest {
  /** The provider's model id (`gemini-2.5-pro`, `deepseek-chat`, `scripted`). */
  model: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  /** Upper bound on output tokens; absent means the model's default. */
  maxOutputTokens?: number;
  /**
   * What the completion is for (`plan`, `review`, `escalate`, `code`). Real models ignore it;
   * the scripted provider matches its rules on it.
   */
  intent?: string;
  /** Aborting it aborts the HTTP request in flight (an aborted agent stops paying). */
  signal?: AbortSignal;
}

/** A provider's answer to one {@link CompletionRequest}. */
export interface CompletionResult {
  /** The assistant message (content and/or tool calls). */
  message: ChatMessage;
  usage: Usage;
  finishReason: FinishReason;
  /** True when the reply was replayed from a script, not produced by a model. */
  scripted: boolean;
  /**
   * The model spec that answered (`gemini:gemini-2.5-pro`). Set by the resilience layer's
   * `FallbackProvider`, so prices and logs follow the model that did the work; adapters leave it out.
   */
  servedBy?: string;
  /** The spec that was asked first, set only when another one answered instead (a fallback happened). */
  fallbackFrom?: string;
}

/** One event of a streamed completion: content deltas, then exactly one final result. */
export type CompletionStreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'final'; result: CompletionResult };

/** A model provider: Gemini, an OpenAI-compatible endpoint, or the scripted replayer. */
export interface ChatProvider {
  /** The provider's name as in model specs (`scripted`, `gemini` …). */
  readonly name: string;
  /** Answers one request with one assistant message. */
  complete(request: CompletionRequest): Promise<CompletionResult>;
  /** Streams the answer: content deltas, then the final result. Optional: callers fall back to `complete`. */
  stream?(request: CompletionRequest): AsyncIterable<CompletionStreamEvent>;
}
