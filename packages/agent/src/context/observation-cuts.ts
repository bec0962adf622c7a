/**
 * How a condensation shortens the tool results it keeps verbatim: the last
 * `keepRecentObservations` results (tool messages, and user messages after the task, which
 * carry test output and the like) stay whole; an older one that only read a file a later call
 * read again or wrote becomes a one-line note; an older one longer than `maxObservationTokens`
 * is cut to its head and tail. `cutRecent` cuts the recent ones too: the last resort when even
 * they do not fit the window.
 */
import type { ChatMessage, TokenCounter } from '@maestro/llm';
import type { ContextPolicy } from './context-types.js';
import { cutHeadTail } from './head-tail.js';
import type { MessageTokens } from './message-tokens.js';
import { supersededReads } from './superseded-reads.js';
import { describeCall } from './turn-digest.js';

/** Shortens kept observations of one history (see the module comment). */
export class ObservationCuts {
  /** History indices of the last `keepRecentObservations` observations. */
  readonly recent: ReadonlySet<number>;
  private readonly notes: Map<string, string>;

  constructor(
    private readonly history: readonly ChatMessage[],
    /** The first index after the task: observations are counted from here. */
    bodyFrom: number,
    private readonly policy: Pick<ContextPolicy, 'keepRecentObservations' | 'maxObservationTokens'>,
    private readonly tokens: MessageTokens,
    private readonly counter: TokenCounter,
  ) {
    this.notes = supersededReads(history, bodyFrom);
    const observations: number[] = [];
    history.forEach((message, i) => {
      if (i >= bodyFrom && (message.role === 'tool' || message.role === 'user')) observations.push(i);
    });
    this.recent = new Set(policy.keepRecentObservations > 0 ? observations.slice(-policy.keepRecentObservations) : []);
  }

  /** Message `i` as a condensation keeps it (the same object when unchanged). */
  kept(i: number, cutRecent = false): ChatMessage {
    const message = this.history[i] as ChatMessage;
    if (message.role !== 'tool' && message.role !== 'user') return message;
    if (this.recent.has(i) && !cutRecent) return message;
    const note = message.toolCallId !== undefined ? this.notes.get(message.toolCallId) : undefined;
    if (note !== undefined) return { ...message, content: note };
    if (this.tokens.of(message) <= this.policy.maxObservationTokens) return message;
    return { ...message, content: cutHeadTail(message.content, this.policy.maxObservationTokens, this.counter) };
  }

  /** What keeping message `i` as `kept` dropped, in words (`bash: cat a.py (superseded …)`). */
  describe(i: number, kept: ChatMessage): string {
    const message = this.history[i] as ChatMessage;
    let call;
    for (let j = i - 1; j >= 0 && call === undefined; j--) call = this.history[j]?.toolCalls?.find((c) => c.id === message.toolCallId);
    const what = call !== undefined ? describeCall(call, 0) : `${message.role} message ${i}`;
    if (message.toolCallId !== undefined && this.notes.has(message.toolCallId) && kept.content === this.notes.get(message.toolCallId)) {
      return `${what} (superseded by a later read or write of the same file)`;
    }
    const cut = /\[… (\d+) (lines?|characters) cut …\]/.exec(kept.content);
    return `${what}: output cut to head and tail${cut ? ` (${cut[1]} ${cut[2]} cut)` : ''}`;
  }
}
