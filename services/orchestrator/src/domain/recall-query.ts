/**
 * The memory recall queries made from a task: the plan's from its goal, the review's from its
 * goal and subtask titles. Memory refuses queries over 2,000 characters while goals may be up to
 * `TaskLimits.goalMaxChars`, so the query is the goal's opening, cut on a word boundary: the
 * first paragraph of a goal says what it is about, which is what recall matches on.
 */

import { toRecallQueryText } from '@maestro/contracts';

/** Longest recall query Orion sends; half of memory's limit, so a change there has room. */
export const RECALL_QUERY_MAX_CHARS = 1_000;

/** The goal's opening as a recall query: whitespace-collapsed, cut at a word boundary (see `toRecallQueryText`). */
export function toRecallQuery(goal: string, maxChars: number = RECALL_QUERY_MAX_CHARS): string {
  return toRecallQueryText(goal, maxChars);
}

/**
 * The recall query of a review: the goal's opening and the subtasks' titles (what was done),
 * cut like {@link toRecallQuery}. Conventions and lessons about the work's subject match it.
 */
export function toReviewRecallQuery(goal: string, subtaskTitles: readonly string[], maxChars: number = RECALL_QUERY_MAX_CHARS): string {
  // The goal keeps at most 60 % of the room, so a long goal leaves the titles some.
  const opening = subtaskTitles.length > 0 ? toRecallQuery(goal, Math.floor(maxChars * 0.6)) : goal;
  return toRecallQuery([opening, ...subtaskTitles].join(' '), maxChars);
}
