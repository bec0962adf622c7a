/**
 * The text of a request as the model reads it, for checking that a fact is still in it word for
 * word: each message's content, and each tool call's name and arguments, both as the raw JSON
 * and as the strings inside it (a fact with a quote or a newline is escaped in the JSON, and is
 * still there for the model). Reasoning is left out: it is not sent back as input.
 */
import type { ChatMessage } from '@maestro/llm';
import type { PinnedFact } from './context-types.js';

/** Every string value inside a parsed JSON value. */
function stringsIn(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((item) => stringsIn(item, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((item) => stringsIn(item, out));
}

/** The string values of a tool call's arguments (none when the JSON does not parse). */
export function argumentStrings(argumentsJson: string): string[] {
  const out: string[] = [];
  try {
    stringsIn(JSON.parse(argumentsJson), out);
  } catch {
    // Arguments the model wrote as invalid JSON are only there as raw text.
  }
  return out;
}

/** The text of one message as the model reads it (see the module comment). */
export function messageText(message: ChatMessage): string {
  const parts = [message.content];
  for (const call of message.toolCalls ?? []) {
    parts.push(call.name, call.argumentsJson, ...argumentStrings(call.argumentsJson));
  }
  return parts.join('\n');
}

/** The text of a whole request, message by message. */
export function requestText(messages: readonly ChatMessage[]): string {
  return messages.map(messageText).join('\n');
}

/** The facts whose text is not in `messages` word for word. */
export function missingFacts(messages: readonly ChatMessage[], facts: readonly PinnedFact[]): PinnedFact[] {
  if (facts.length === 0) return [];
  const text = requestText(messages);
  return facts.filter((fact) => !text.includes(fact.text));
}
