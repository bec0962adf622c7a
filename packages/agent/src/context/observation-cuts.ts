/**
 * What a condensation keeps of the turns it does not summarise: the last
 * `keepRecentObservations` observations (tool results, and user messages after the task, which
 * carry test output and the like) and their turns whole; everything before the turn of the
 * first of them aged ({@link MessageAgeing}: stale reads noted, long outputs cut to head and
 * tail). Replies, whole or aged, go without the commands their text repeats. `cutRecent` ages
 * the recent ones too: the last resort when even they do not fit the window.
 */
import type { ChatMessage } from '@maestro/llm';
import type { ContextPolicy } from './context-types.js';
import { isObservation, type MessageAgeing } from './message-ageing.js';
import { supersededReads } from './superseded-reads.js';
import { describeCall } from './turn-digest.js';
import { turnsOf } from './turns.js';

/** The history index of the turn start holding the first of the last `keep` observations of `history[from..)` (`history.length` when `keep` is 0 or none). */
function recentTurnsStart(history: readonly ChatMessage[], from: number, keep: number): number {
  const observations: number[] = [];
  history.forEach((message, i) => {
    if (i >= from && isObservation(message)) observations.push(i);
  });
  const first = keep > 0 ? observations[Math.max(0, observations.length - keep)] : undefined;
  if (first === undefined) return history.length;
  return turnsOf(history, from).find((turn) => turn.start <= first && first < turn.end)?.start ?? first;
}

/** Shortens what a condensation keeps of one history (see the module comment). */
export class ObservationCuts {
  /** History indices of the last `keepRecentObservations` observations. */
  readonly recent: ReadonlySet<number>;
  /** Messages before this history index are aged; from it on, whole. */
  readonly agedBefore: number;
  /** Notes for superseded reads, by tool call id. */
  readonly notes: ReadonlyMap<string, string>;

  constructor(
    private readonly history: readonly ChatMessage[],
    /** The first index after the task: observations are counted from here. */
    bodyFrom: number,
    policy: Pick<ContextPolicy, 'keepRecentObservations'>,
    private readonly ageing: MessageAgeing,
  ) {
    this.notes = supersededReads(history, bodyFrom);
    const observations: number[] = [];
    history.forEach((message, i) => {
      if (i >= bodyFrom && isObservation(message)) observations.push(i);
    });
    this.recent = new Set(policy.keepRecentObservations > 0 ? observations.slice(-policy.keepRecentObservations) : []);
    this.agedBefore = recentTurnsStart(history, bodyFrom, policy.keepRecentObservations);
  }

  /** Message `i` as a condensation keeps it (the same object when unchanged). */
  kept(i: number, cutRecent = false): ChatMessage {
    const message = this.history[i] as ChatMessage;
    if (i >= this.agedBefore && !cutRecent) return this.ageing.sent(message);
    return this.ageing.aged(message, message.toolCallId !== undefined ? this.notes.get(message.toolCallId) : undefined);
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
