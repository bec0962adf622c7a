/**
 * Recall queries, as every caller of memory makes them: free text whitespace-collapsed and cut
 * on a word boundary to fit memory's limit (`MemoryRecallLimits.queryMaxChars`), so Orion and the
 * executors never send a query memory refuses. Pure.
 */

/** Memory's limits on a recall, declared once for the service and its callers. */
export const MemoryRecallLimits = {
  /** Longest recall query memory takes, in characters. */
  queryMaxChars: 2_000,
} as const;

/**
 * `text` whitespace-collapsed and cut to at most `maxChars` characters at the last word boundary
 * (mid-word when one word is longer than a fifth of the room), never splitting a surrogate pair.
 */
export function toRecallQueryText(text: string, maxChars: number = MemoryRecallLimits.queryMaxChars): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxChars) return flat;
  let cut = maxChars;
  // A low surrogate at the cut would leave half a character behind.
  if (/[\uDC00-\uDFFF]/.test(flat.charAt(cut))) cut--;
  const head = flat.slice(0, cut);
  if (flat.charAt(cut) === ' ') return head.trimEnd();
  const space = head.lastIndexOf(' ');
  // Cutting back to a word boundary is worth losing at most a fifth of the query.
  return (space >= cut * 0.8 ? head.slice(0, space) : head).trimEnd();
}
