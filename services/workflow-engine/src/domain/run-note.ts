/**
 * Notes: facts about a run recorded in its history without moving it (Orion records each
 * escalation raised and decided there). A note is a history row whose from and to state are the
 * run's state at the time, whose event carries `note: true` and the note's id next to the
 * caller's data; the run's position, deadline and activity are left as they are, so a note
 * never re-requests work. Pure: validation and the decision for the store's write path.
 */
import { invalidField } from '@maestro/runtime';
import type { RunDecision } from './run-decision.js';
import type { RunPosition } from './run-machine.js';

/** A note to record. */
export interface RunNote {
  /** What happened: lower-case words joined by dots, e.g. `escalation.raised`. */
  type: string;
  /** The note's identity: it is recorded once per run and id. */
  noteId: string;
  /** What the history entry says about it. */
  data: Record<string, unknown>;
}

/** Limits of a note, in one place. */
export const RunNoteLimits = {
  /** Characters of `note_id`. */
  maxNoteId: 200,
  /** Characters of `data` as JSON. */
  maxDataChars: 16_384,
} as const;

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*){0,4}$/;
/** Event types that are the engine's or XState's, never a note's. */
const RESERVED_PREFIXES = ['activity.', 'xstate.', 'run.'];

/** Checks a note; INVALID_ARGUMENT names `type`, `note_id` or `data`. */
export function checkRunNote(note: RunNote): RunNote {
  const type = note.type.trim();
  if (!TYPE_PATTERN.test(type) || type.length > 64) throw invalidField('type', 'must be lower-case words joined by dots, at most 64 characters (e.g. "escalation.raised")');
  if (RESERVED_PREFIXES.some((prefix) => type.startsWith(prefix))) throw invalidField('type', `types starting with ${RESERVED_PREFIXES.map((p) => `"${p}"`).join(', ')} are reserved`);
  const noteId = note.noteId.trim();
  if (noteId === '') throw invalidField('note_id', 'must not be empty: it is what records the note once');
  if (noteId.length > RunNoteLimits.maxNoteId) throw invalidField('note_id', `must be at most ${RunNoteLimits.maxNoteId} characters`);
  if (JSON.stringify(note.data).length > RunNoteLimits.maxDataChars) throw invalidField('data', `must be at most ${RunNoteLimits.maxDataChars} characters as JSON`);
  if ('note' in note.data || 'noteId' in note.data) throw invalidField('data', '"note" and "noteId" are the engine\'s own fields of a note');
  return { type, noteId, data: note.data };
}

/** The event a note's history row carries. */
export function noteEvent(note: RunNote): Record<string, unknown> {
  return { ...note.data, note: true, noteId: note.noteId };
}

/** True when a history row's event is a note's. */
export function isNoteEvent(event: Readonly<Record<string, unknown>>): boolean {
  return event['note'] === true && typeof event['noteId'] === 'string';
}

/** The decision that records `note` on `run`: the same position, one history row. */
export function decideNote(run: RunPosition, note: RunNote): RunDecision {
  const position: RunPosition = { snapshot: run.snapshot, state: run.state, status: run.status, attempt: run.attempt, visits: run.visits, context: run.context };
  return { kind: 'update', position, transition: { fromState: run.state, toState: run.state, eventType: note.type, event: noteEvent(note) } };
}
