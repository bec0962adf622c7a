/**
 * The one exchange every call of the router benchmark makes: the model both paths ask for, the
 * conversation they send (a short coding request, as an executor's first turn) and the fixed
 * reply the fake upstream gives to it (a few lines of code, plausible token counts, labelled
 * scripted).
 */
import { ChatMessage } from '@maestro/contracts';
import type { CompletionResult } from '@maestro/llm';

/** The model both paths ask for; the router's tactical (and strategic) model is `deepseek:<this>`. */
export const BENCH_MODEL = 'deepseek-chat';

/** The conversation both paths send. */
export const BENCH_MESSAGES = [
  { role: 'system', content: 'You are a coding agent. Answer with the code only.' },
  { role: 'user', content: 'Add a function sum(a, b) to src/math.ts that returns a + b.' },
] as const;

/** {@link BENCH_MESSAGES} as proto messages, for the router's `CompleteRequest`. */
export const BENCH_PROTO_MESSAGES: ChatMessage[] = BENCH_MESSAGES.map((m) => ChatMessage.fromPartial(m));

/** What the fake upstream answers to every request. */
export const BENCH_REPLY: CompletionResult = {
  message: { role: 'assistant', content: 'export function sum(a: number, b: number): number {\n  return a + b;\n}\n' },
  usage: { inputTokens: 38, outputTokens: 21 },
  finishReason: 'stop',
  scripted: true,
};
