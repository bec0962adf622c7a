/** Text shortening shared by the loop's step reports and evidence. */

/** Characters a step's summary keeps. */
export const SUMMARY_MAX = 300;

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function truncate(text: string, max: number = SUMMARY_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The last `max` characters of `text`. */
export function tail(text: string, max: number): string {
  return text.length <= max ? text : text.slice(text.length - max);
}
