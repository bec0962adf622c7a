/**
 * Which recalled memories go into one of Orion's prompts (plan, review): in recall order (pinned
 * first, then by fused score, as memory ranks them) while their prompt lines fit the memory
 * budget. The memory that first does not fit is cut to the room left when that room is worth a
 * note, and nothing after it goes in: lower-ranked notes never displace a better one. The result
 * is exactly what the prompt gets and what the `recall` step records. Pure: the token counter is
 * passed in.
 */
import type { RecalledMemory } from '@maestro/contracts';
import { formatMemoryNote, type MemoryNote } from './prompts.js';

/** Defaults of Orion's recall for its prompts (`activities/recall-memory.ts`) and its memory budget; the one place they live. */
export const RecallBudgetDefaults = {
  /** Memories recalled for a plan or review prompt, before the budget (`ActivityOptions.recallLimit`). */
  limit: 8,
  /** Deadline of a recall (ms); past it the prompt goes without notes (`ActivityOptions.memoryDeadlineMs`). */
  deadlineMs: 5_000,
  /** Tokens of memory notes in one plan or review prompt. */
  tokens: 1_500,
  /** Least room (tokens) worth a cut note; with less left, the note is left out. */
  minCutTokens: 32,
} as const;

/** A recalled memory as memory's Recall returns it (the fields Orion uses). */
export interface ScoredNote {
  id: string;
  kind: string;
  content: string;
  score: number;
  why: string;
}

/** What fits: the notes for the prompt and their record for the step, in the same order. */
export interface FittedRecall {
  notes: MemoryNote[];
  recalled: RecalledMemory[];
  /** Tokens the notes' lines take. */
  tokens: number;
  /** Recalled memories not sent whole for lack of room (left out, or the one cut). */
  leftOut: number;
  cut: boolean;
}

/** Counts tokens of a text. */
export type TokenCount = (text: string) => number;

const MARK = ' …';

/** The longest head of `content` whose note line (with a cut mark) takes at most `room` tokens; '' when none does. */
function cutToFit(kind: string, content: string, room: number, count: TokenCount): string {
  let lo = 0;
  let hi = content.length;
  // Binary search on characters: token counts grow with the prefix.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(formatMemoryNote({ kind, content: `${content.slice(0, mid).trimEnd()}${MARK}` })) <= room) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : `${content.slice(0, lo).trimEnd()}${MARK}`;
}

/** Fits recalled memories into `budgetTokens` (see the module comment); a budget of 0 takes none. */
export function fitRecallToBudget(scored: readonly ScoredNote[], budgetTokens: number, count: TokenCount, minCutTokens: number = RecallBudgetDefaults.minCutTokens): FittedRecall {
  const notes: MemoryNote[] = [];
  const recalled: RecalledMemory[] = [];
  let tokens = 0;
  let cut = false;
  for (const [i, m] of scored.entries()) {
    // One newline joins each line to the previous one.
    const lineTokens = count(formatMemoryNote(m)) + (notes.length > 0 ? 1 : 0);
    let content = m.content;
    if (tokens + lineTokens > budgetTokens) {
      const room = budgetTokens - tokens - (notes.length > 0 ? 1 : 0);
      content = room >= minCutTokens ? cutToFit(m.kind, m.content, room, count) : '';
      if (content === '') return { notes, recalled, tokens, leftOut: scored.length - i, cut };
      cut = true;
    }
    notes.push({ kind: m.kind, content });
    recalled.push({ id: m.id, kind: m.kind, score: m.score, ...(m.why !== '' ? { why: m.why } : {}), content });
    // A whole note costs what was just counted; only a cut one is counted again.
    tokens += cut ? count(formatMemoryNote({ kind: m.kind, content })) + (notes.length > 1 ? 1 : 0) : lineTokens;
    // The cut note counts as not sent whole, with everything after it.
    if (cut) return { notes, recalled, tokens, leftOut: scored.length - i, cut };
  }
  return { notes, recalled, tokens, leftOut: 0, cut };
}
