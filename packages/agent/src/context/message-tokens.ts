/**
 * Token counts of messages, each counted once: the condenser measures the whole request every
 * turn, and tokenizing a long history again and again would cost more than the turn itself.
 * Messages are treated as immutable; a count is remembered per message object.
 *
 * Also a guard: byte-pair encoding takes time quadratic in the length of one unbroken run of
 * characters (a 20 kB base64 blob or minified line takes half a minute), so runs longer than
 * {@link LONG_RUN_CHARS} are counted in pieces of that size. That can differ from the exact
 * count by a token per piece, only in such runs.
 */
import type { ChatMessage, TokenCounter } from '@maestro/llm';

/** Unbroken runs of characters longer than this are counted in pieces of this size. */
export const LONG_RUN_CHARS = 256;
const LONG_RUN = new RegExp(`\\S{${LONG_RUN_CHARS + 1},}`, 'g');

/** Tokens of `text`, with long unbroken runs counted in pieces (see the module comment). */
export function countTextTokens(counter: TokenCounter, text: string): number {
  if (!LONG_RUN.test(text)) return counter.countTokens(text);
  LONG_RUN.lastIndex = 0;
  let count = 0;
  let from = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    count += counter.countTokens(text.slice(from, match.index));
    for (let i = 0; i < match[0].length; i += LONG_RUN_CHARS) count += counter.countTokens(match[0].slice(i, i + LONG_RUN_CHARS));
    from = match.index + match[0].length;
  }
  return count + counter.countTokens(text.slice(from));
}

/** Counts messages with a {@link TokenCounter}, remembering each message's count. */
export class MessageTokens {
  private readonly counts = new WeakMap<ChatMessage, number>();
  /** What an empty conversation costs (the reply priming). */
  private readonly base: number;

  constructor(readonly counter: TokenCounter) {
    this.base = counter.countMessageTokens([]);
  }

  /** Tokens `message` adds to a request (its overhead, role, content, name and tool calls). */
  of(message: ChatMessage): number {
    let count = this.counts.get(message);
    if (count === undefined) {
      count = this.counter.countMessageTokens([{ ...message, content: '' }]) - this.base + countTextTokens(this.counter, message.content);
      this.counts.set(message, count);
    }
    return count;
  }

  /** Tokens of a whole request of `messages`, reply priming included (as `countMessageTokens` counts). */
  total(messages: readonly ChatMessage[]): number {
    return messages.reduce((sum, message) => sum + this.of(message), this.base);
  }

  /** Tokens of `text` alone. */
  text(text: string): number {
    return countTextTokens(this.counter, text);
  }
}
