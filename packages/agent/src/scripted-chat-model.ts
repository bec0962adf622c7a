/**
 * A {@link ChatModel} that replays a script (`ScriptedProvider` of @maestro/llm) instead of
 * asking a model, and keeps what it was shown: for tests and offline runs of the loop. Every
 * reply says it is scripted (`scripted: true`, provider `scripted`), so it is never taken for a
 * model's.
 */
import { ScriptedProvider, parseScript, type ChatMessage } from '@maestro/llm';
import type { ChatModel, ChatModelRequest } from './chat-model.js';

/** A scripted model and what it was asked. */
export interface ScriptedChatModel extends ChatModel {
  /** Every request, in order. */
  readonly requests: ChatModelRequest[];
  /** The messages of every request, in order (`requests[i].messages`). */
  readonly seen: ChatMessage[][];
}

/**
 * Replays `script` (the JSON of `parseScript`), matching its rules with `intent` as the call's
 * intent. @param intent @default 'code'
 */
export function scriptedChatModel(script: unknown, intent = 'code'): ScriptedChatModel {
  const provider = new ScriptedProvider(parseScript(script), 'in-test script');
  const requests: ChatModelRequest[] = [];
  const seen: ChatMessage[][] = [];
  return {
    requests,
    seen,
    async complete(request) {
      requests.push(request);
      seen.push(request.messages);
      const result = await provider.complete({ model: 'scripted', intent, messages: request.messages, tools: request.tools });
      return { message: result.message, usage: result.usage, scripted: result.scripted, provider: provider.name, model: 'scripted', finishReason: result.finishReason };
    },
  };
}
