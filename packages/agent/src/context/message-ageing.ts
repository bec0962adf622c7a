/**
 * How the condenser sends a message. Any reply, recent or not, goes without the code blocks of
 * its text that repeat its tool calls' commands (`sent`). Once a message has aged (once more
 * recent tool results stand between it and the next step), a tool result or a user message
 * after the task that only read a file a later call read again or wrote becomes its one-line
 * note, and one longer than `maxObservationTokens` is cut to its head and tail (`aged`).
 * Anything else is sent as it is. Deterministic, and remembered per message, so a message is
 * the same object (and the same bytes) in every later request: prefix caches keep hitting.
 */
import type { ChatMessage, TokenCounter } from '@maestro/llm';
import { withoutCommandEcho } from './command-echo.js';
import type { ContextPolicy } from './context-types.js';
import { cutHeadTail } from './head-tail.js';
import type { MessageTokens } from './message-tokens.js';

/** Whether a message is an observation: a tool result, or a user message after the task (test output and the like). */
export function isObservation(message: ChatMessage): boolean {
  return message.role === 'tool' || message.role === 'user';
}

/** Ages messages (see the module comment); one per condenser, so the aged forms are remembered across requests. */
export class MessageAgeing {
  private readonly shortened = new WeakMap<ChatMessage, ChatMessage>();
  private readonly noted = new WeakMap<ChatMessage, ChatMessage>();

  constructor(
    private readonly policy: Pick<ContextPolicy, 'maxObservationTokens'>,
    private readonly tokens: MessageTokens,
    private readonly counter: TokenCounter,
  ) {}

  /** `message` as sent while it is recent: a reply without the commands its text repeats (see {@link withoutCommandEcho}). */
  sent(message: ChatMessage): ChatMessage {
    if (message.role !== 'assistant') return message;
    let sent = this.shortened.get(message);
    if (sent === undefined) {
      sent = withoutCommandEcho(message);
      this.shortened.set(message, sent);
    }
    return sent;
  }

  /** `message` aged; `note` replaces an observation's output (a superseded read). The same object when nothing changes. */
  aged(message: ChatMessage, note?: string): ChatMessage {
    if (note !== undefined && isObservation(message)) {
      const known = this.noted.get(message);
      if (known?.content === note) return known;
      const replaced = { ...message, content: note };
      this.noted.set(message, replaced);
      return replaced;
    }
    let aged = this.shortened.get(message);
    if (aged === undefined) {
      aged = this.shorten(message);
      this.shortened.set(message, aged);
    }
    return aged;
  }

  private shorten(message: ChatMessage): ChatMessage {
    if (message.role === 'assistant') return withoutCommandEcho(message);
    if (!isObservation(message) || this.tokens.of(message) <= this.policy.maxObservationTokens) return message;
    return { ...message, content: cutHeadTail(message.content, this.policy.maxObservationTokens, this.counter) };
  }
}
