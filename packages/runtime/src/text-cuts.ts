/**
 * Cutting a text to a number of characters with a marker saying how much is missing, so a
 * reader (a person, a model) knows it was cut: a step's arguments and observation, a quoted file,
 * a model's answer. The result, marker included, is never longer than asked.
 */

/** The marker put where a text was cut, naming how many characters are missing. */
function cutMarker(omitted: number): string {
  return `\n[… ${omitted} characters cut …]\n`;
}

/** Keeps the start of `text` in at most `max` characters, marking the cut at the end. */
export function cutEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  // The marker's own length depends on the number it names; one longer number is enough room.
  const keep = Math.max(0, max - cutMarker(text.length).length);
  return `${text.slice(0, keep)}${cutMarker(text.length - keep)}`;
}

/** Keeps the head and the tail of `text` (where errors and results are) in at most `max` characters, marking the cut. */
export function cutMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = Math.max(0, max - cutMarker(text.length).length);
  const head = Math.ceil(room / 2);
  const tailChars = room - head;
  return `${text.slice(0, head)}${cutMarker(text.length - room)}${tailChars > 0 ? text.slice(text.length - tailChars) : ''}`;
}
