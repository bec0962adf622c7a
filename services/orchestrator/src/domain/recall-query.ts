/**
 * The memory recall queries made from a task: the plan's from its goal, the review's from its
 * goal and subtask titles. Memory refuses queries over 2,000 characters while goals may be up to
 * `TaskLimits.goalMaxChars`, so the query is the goal's opening, cut on a word boundary: the
 * first paragraph of a goal says what it is about, which is what recall matches on.
 */

/** Longest recall query Orion sends; half of memory's limit, so a change there has room. */
export const RECALL_QUERY_MAX_CHARS = 1_000;

/**
 * The goal, whitespace-collapsed, cut to at most `maxChars` characters at the last word
 * boundary (or mid-word when the opening is one long word), never splitting a surrogate pair.
 */
export function toRecallQuery(goal: string, maxChars: number = RECALL_QUERY_MAX_CHARS): string {
  const text = goal.replace(/\s+/g, ' ').trim();
  if (text.length <= maxChars) return text;
  let cut = maxChars;
  // A low surrogate at the cut would leave half a character behind.
  if (/[\uDC00-\uDFFF]/.test(text.charAt(cut))) cut--;
  const head = text.slice(0, cut);
  if (text.charAt(cut) === ' ') return head.trimEnd();
  const space = head.lastIndexOf(' ');
  // Cutting back to a word boundary is worth losing at most a fifth of the query.
  return (space >= cut * 0.8 ? head.slice(0, space) : head).trimEnd();
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
