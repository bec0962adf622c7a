/**
 * The sentences of a task or of a person's later message that constrain the work: "DO NOT
 * MODIFY: Tests", "You must not change the API", "only touch src/", "never commit secrets",
 * "it should return an empty list". Losing one of them on compaction is the complaint users of
 * coding agents raise most, so they are pinned. Read by wording (a modal or a prohibition),
 * outside code blocks; a sentence is cut to {@link CONSTRAINT_MAX_CHARS}.
 */

/** A constraint longer than this is cut. */
export const CONSTRAINT_MAX_CHARS = 300;

/** Words that make a sentence a requirement or a prohibition. */
const CONSTRAINT_WORDS = /\b(?:DO NOT|do not|don't|must|mustn't|never|should|shouldn't|only|required?|requires|make sure|avoid|always|forbidden|not allowed)\b/i;

/** The lines of `text` outside fenced code blocks. */
function proseLines(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) out.push(line);
  }
  return out;
}

/** The sentences of one line: split after `.`, `!` or `?` followed by a space and a capital. */
function sentences(line: string): string[] {
  return line.split(/(?<=[.!?])\s+(?=[A-Z"'`(])/).map((s) => s.trim()).filter((s) => s !== '');
}

/** The constraint sentences of `text`, each once, in order, cut to {@link CONSTRAINT_MAX_CHARS}. */
export function constraintSentences(text: string): string[] {
  const seen = new Set<string>();
  for (const line of proseLines(text)) {
    for (const sentence of sentences(line.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '').replace(/^#+\s*/, ''))) {
      if (sentence.length < 8 || !CONSTRAINT_WORDS.test(sentence)) continue;
      seen.add(sentence.length > CONSTRAINT_MAX_CHARS ? sentence.slice(0, CONSTRAINT_MAX_CHARS) : sentence);
    }
  }
  return [...seen];
}
