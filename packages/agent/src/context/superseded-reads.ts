/**
 * File reads that a later read or write of the same file made stale: the old content is at best
 * a repeat and at worst wrong, so a condensation replaces such an output with a one-line note.
 * Only calls that do nothing but read count (`fs.read`, `cat a.py`, `sed -n '1,40p' a.py`), and
 * a partial read is superseded only by a write, a full read, or the very same read again.
 */
import type { ChatMessage } from '@maestro/llm';
import { fileOperationsOf, isPureRead, samePath, type FileOperation } from './file-operations.js';

/** An operation with the position of its call in the history. */
interface PlacedOperation extends FileOperation {
  /** Index of the assistant message, then of the call in it, as one ordered number. */
  at: number;
}

/** Whether `later` makes the content `read` printed stale or repeated. */
function supersedes(read: FileOperation, later: FileOperation): boolean {
  if (!samePath(read.path, later.path)) return false;
  return later.kind === 'write' || later.range === 'full' || later.range === read.range;
}

/**
 * For the pure-read calls of `history[from..)` whose every read is superseded by a later call,
 * the note to put in place of their output, by tool call id.
 *
 * @example
 * supersededReads(history, 2).get('call_7'); // '[output dropped: cat src/a.py was superseded by a later write of src/a.py]'
 */
export function supersededReads(history: readonly ChatMessage[], from = 0): Map<string, string> {
  const placed: PlacedOperation[] = [];
  const pureReads = new Map<string, number>();
  history.forEach((message, index) => {
    if (index < from || message.role !== 'assistant') return;
    const calls = message.toolCalls ?? [];
    const order = new Map(calls.map((call, i) => [call.id, i]));
    calls.forEach((call, i) => {
      if (isPureRead(call)) pureReads.set(call.id, index * 1000 + i);
    });
    for (const op of fileOperationsOf(message)) {
      placed.push({ ...op, at: index * 1000 + (op.callId !== undefined ? (order.get(op.callId) ?? 999) : 999) });
    }
  });
  const notes = new Map<string, string>();
  for (const [callId, at] of pureReads) {
    const reads = placed.filter((op) => op.callId === callId);
    const by = reads.map((read) => placed.find((later) => later.at > at && supersedes(read, later)));
    if (reads.length === 0 || by.some((later) => later === undefined)) continue;
    const what = reads.map((read) => read.path).join(', ');
    const first = by[0] as PlacedOperation;
    notes.set(callId, `[output dropped: this read of ${what} was superseded by a later ${first.kind === 'write' ? 'write' : 'read'} of ${first.path}]`);
  }
  return notes;
}
