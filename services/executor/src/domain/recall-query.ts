/**
 * What the executor asks memory about a subtask: one query made from the subtask's title, the
 * files it works on and its instructions, within memory's limit on a query. Pure.
 */
import type { SubtaskWork } from '@maestro/contracts';

/** Memory refuses a recall query longer than this (characters). */
export const RECALL_QUERY_MAX_CHARS = 2_000;

/**
 * The recall query of a subtask: its title, then its files, then its instructions, whitespace
 * collapsed, cut to at most `maxChars` at a word boundary. Title and files come first because
 * they are short and say most precisely what the work is about; long instructions are what
 * gets cut. '' when the subtask says nothing (no recall is then asked).
 */
export function toRecallQuery(work: Pick<SubtaskWork, 'title' | 'instructions' | 'files'>, maxChars: number = RECALL_QUERY_MAX_CHARS): string {
  const text = [work.title, work.files.join(' '), work.instructions]
    .map((part) => part.replace(/\s+/g, ' ').trim())
    .filter((part) => part !== '')
    .join(' — ');
  return cutAtWord(text, maxChars);
}

/** `text` cut to at most `maxChars` at the last word boundary (mid-word for one long word), never splitting a surrogate pair. */
function cutAtWord(text: string, maxChars: number): string {
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
