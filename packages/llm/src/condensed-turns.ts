/**
 * How a condensed conversation still tells how many assistant turns it has had. A condenser
 * (packages/agent `context/`) folds older turns into one assistant message and may add a short
 * assistant note before a pinned-facts block; both open with a note saying how many of the
 * conversation's assistant turns they stand for. Stateless replayers (the scripted provider picks
 * its reply by the number of assistant turns so far) count with {@link assistantTurns}, so a
 * condensed request gets the same scripted reply as the whole conversation would.
 */
import type { ChatMessage } from './messages.js';

const NOTE = /^\[context condensed: (\d+) assistant turns?\b/;

/** The opening of a condenser's assistant message that stands for `turns` assistant turns (0 for a note that folds none). */
export function condensedTurnsNote(turns: number): string {
  return `[context condensed: ${turns} assistant turn${turns === 1 ? '' : 's'}`;
}

/** Assistant turns in `messages`: one per assistant message, or the number a condenser's note says it stands for. */
export function assistantTurns(messages: readonly ChatMessage[]): number {
  let turns = 0;
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    const note = NOTE.exec(message.content);
    turns += note !== null ? Number(note[1]) : 1;
  }
  return turns;
}
