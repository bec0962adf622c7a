/**
 * Cuts a long tool output to its head and tail, with a marker saying how much was cut: the
 * start of an output says what ran, the end says how it ended (the error, the summary line), and
 * the middle is what an agent least needs again. The tail gets the larger share for that reason.
 */
import type { TokenCounter } from '@maestro/llm';
import { countTextTokens } from './message-tokens.js';

/** The marker put where lines were cut. */
export function cutMarker(lines: number): string {
  return `[… ${lines} line${lines === 1 ? '' : 's'} cut …]`;
}

/** The marker put where characters of one long line were cut. */
export function cutCharsMarker(chars: number): string {
  return `[… ${chars} characters cut …]`;
}

/** Share of the budget given to the head; the rest goes to the tail. */
const HEAD_SHARE = 0.4;

/**
 * `text` if it has at most `maxTokens` tokens; otherwise its first and last lines within that
 * budget around a `[… N lines cut …]` marker. An output of one or two huge lines is cut by
 * characters instead (`[… N characters cut …]`), at about 4 characters a token.
 */
export function cutHeadTail(text: string, maxTokens: number, counter: TokenCounter): string {
  // About 4 characters a token: a text that long is over budget without counting it.
  if (text.length <= maxTokens * 8 && countTextTokens(counter, text) <= maxTokens) return text;
  const lines = text.split('\n');
  const headBudget = Math.floor(maxTokens * HEAD_SHARE);
  const tailBudget = maxTokens - headBudget;
  const cost = lines.map((line) => countTextTokens(counter, line) + 1);
  let head = 0;
  for (let used = 0; head < lines.length && used + (cost[head] as number) <= headBudget; head++) used += cost[head] as number;
  let tail = 0;
  for (let used = 0; tail < lines.length - head && used + (cost[lines.length - 1 - tail] as number) <= tailBudget; tail++) {
    used += cost[lines.length - 1 - tail] as number;
  }
  const cut = lines.length - head - tail;
  if (head + tail >= 2 && cut > 0) {
    return [...lines.slice(0, head), cutMarker(cut), ...lines.slice(lines.length - tail)].join('\n');
  }
  // Too few lines to cut by line: cut the characters of the middle instead.
  const headChars = Math.floor(maxTokens * HEAD_SHARE * 4);
  const tailChars = Math.floor(maxTokens * (1 - HEAD_SHARE) * 4);
  if (text.length <= headChars + tailChars) return text;
  return `${text.slice(0, headChars)}${cutCharsMarker(text.length - headChars - tailChars)}${text.slice(text.length - tailChars)}`;
}
