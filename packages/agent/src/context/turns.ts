/**
 * A history seen as turns: an assistant message together with the tool results that answer its
 * calls, or a message on its own (a user message, a tool result nobody asked for). A request
 * may only start a kept part of the history at a turn, so a tool result never loses the call
 * it answers and a call never loses its results (providers refuse both).
 */
import type { ChatMessage } from '@maestro/llm';

/** A turn: messages `start` to `end` (exclusive) of the history. */
export interface Turn {
  start: number;
  end: number;
}

/** The turns of `history[from..to)`, in order. */
export function turnsOf(history: readonly ChatMessage[], from = 0, to = history.length): Turn[] {
  const turns: Turn[] = [];
  let i = from;
  while (i < to) {
    const message = history[i] as ChatMessage;
    let end = i + 1;
    const ids = new Set((message.toolCalls ?? []).map((call) => call.id));
    if (message.role === 'assistant' && ids.size > 0) {
      while (end < to && history[end]?.role === 'tool' && ids.has(history[end]?.toolCallId ?? '')) end++;
    }
    turns.push({ start: i, end });
    i = end;
  }
  return turns;
}
