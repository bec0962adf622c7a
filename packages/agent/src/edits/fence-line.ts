/**
 * Recognising the lines that open and close fenced blocks in a model's reply: Markdown backtick
 * and tilde fences of any length, and the `<source>`-style tags some prompts ask for instead.
 */

/** An opening fence: its marker (```` ``` ````, `~~~~`, `<source>` …), what follows it, and how it closes. */
export interface FenceOpening {
  /** The characters that opened the block, e.g. ```` ``` ```` or `<source>`. */
  marker: string;
  /** The text after the marker (language and/or filename), trimmed. */
  info: string;
  /** Leading whitespace before the marker. */
  indent: string;
}

const TAG_FENCES = ['source', 'code', 'pre', 'codeblock', 'sourcecode'] as const;
const MARKDOWN_FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const TAG_FENCE = new RegExp(`^([ \\t]*)<(${TAG_FENCES.join('|')})>(.*)$`);

/**
 * The opening fence on `line`, or undefined. With `indented: false` (the default) the marker must
 * start the line, which is how the edit formats are written; Markdown allows up to three spaces,
 * and models indent fences inside numbered lists, so the whole-file parser passes `true`.
 */
export function parseFenceOpening(line: string, options: { indented?: boolean } = {}): FenceOpening | undefined {
  const text = line.replace(/\r?\n$|\r$/, '');
  const markdown = MARKDOWN_FENCE.exec(text);
  if (markdown !== null) {
    const [, indent = '', marker = '', rest = ''] = markdown;
    if (indent.length > 0 && !options.indented) return undefined;
    // A backtick fence's info string cannot contain backticks (CommonMark), so "```foo```" is inline code.
    if (marker.startsWith('`') && rest.includes('`')) return undefined;
    return { marker, info: rest.trim(), indent };
  }
  const tag = TAG_FENCE.exec(text);
  if (tag !== null) {
    const [, indent = '', name = '', rest = ''] = tag;
    if (indent.length > 0 && !options.indented) return undefined;
    return { marker: `<${name}>`, info: rest.trim(), indent };
  }
  return undefined;
}

/** True when `line` closes a block opened with `opening` (same character, at least as long; or the closing tag). */
export function closesFence(line: string, opening: FenceOpening): boolean {
  const text = line.trim();
  if (opening.marker.startsWith('<')) return text === `</${opening.marker.slice(1)}`;
  const char = opening.marker[0] ?? '`';
  if (text.length < opening.marker.length) return false;
  for (const c of text) if (c !== char) return false;
  return true;
}

/**
 * A backtick fence that can wrap `text` without being closed by it: three backticks, or one more
 * than the longest run of backticks that starts a line in `text`. Use it when showing a file to a
 * model, so the model can answer with the same fence.
 *
 * @example
 * fenceFor('plain'); // '```'
 * fenceFor('see:\n```\ncode\n```\n'); // '````'
 */
export function fenceFor(text: string): string {
  let longest = 0;
  for (const match of text.matchAll(/^[ \t]*(`{3,})/gm)) longest = Math.max(longest, match[1]?.length ?? 0);
  return '`'.repeat(Math.max(3, longest + 1));
}
