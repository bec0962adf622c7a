/**
 * The peer: a plain sliding window, the common naive approach. Each request is the leading
 * system messages and the task (the first user message), then as many of the last messages as
 * fit the same target the condenser aims for, never starting at a tool result (its call would be
 * missing). Nothing is summarised, pinned or cut.
 */
import type { ChatMessage } from '@maestro/llm';
import type { MessageTokens } from '@maestro/agent';

/** The sliding-window request for `history` within `targetTokens`. */
export function slidingWindow(history: readonly ChatMessage[], targetTokens: number, tokens: MessageTokens): ChatMessage[] {
  let sys = 0;
  while (sys < history.length && history[sys]?.role === 'system') sys++;
  const task = history.findIndex((message) => message.role === 'user');
  const head = [...history.slice(0, sys), ...(task >= 0 ? [history[task] as ChatMessage] : [])];
  const after = task >= 0 ? task + 1 : sys;
  let used = tokens.total(head);
  let start = history.length;
  while (start > after && used + tokens.of(history[start - 1] as ChatMessage) <= targetTokens) {
    start--;
    used += tokens.of(history[start] as ChatMessage);
  }
  while (start < history.length && history[start]?.role === 'tool') start++;
  return [...head, ...history.slice(start)];
}
