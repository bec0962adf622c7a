/**
 * What the runner readers share: a section of output (one run of one runner) and the answer a
 * reader gives, plus the small helpers several readers use to read summary lines.
 */

/** A duration suffix such as ` (1.2ms)`, ` (3 ms)`, ` (0.53 s)`. */
export const DURATION_SUFFIX = /\s+\(\d+(?:\.\d+)?\s*m?s\)\s*$/;

/** The output of one run of one runner: lines `start`..`end` (inclusive) and the failures it names. */
export interface RunnerSection {
  start: number;
  end: number;
  names: string[];
}

/** A reader's answer: the sections of its format, or why the output of this format cannot be read. */
export type FormatReading = { sections: RunnerSection[] } | { unknown: string };

/** A reader of one runner's format: the output's plain lines in, its sections (or why not) out. */
export type FormatReader = (lines: readonly string[]) => FormatReading;

/** The number before `word` in a summary line (`3 failed, 1 passed` → 3 for `failed`), 0 without it. */
export function countIn(summary: string, word: RegExp): number {
  const match = new RegExp(`(\\d+)\\s+${word.source}`).exec(summary);
  return match?.[1] !== undefined ? Number(match[1]) : 0;
}

/** The last match of `pattern` among `lines[from..to]`, as its first group. */
export function lastGroup(lines: readonly string[], from: number, to: number, pattern: RegExp): string | undefined {
  for (let i = to; i >= from; i--) {
    const match = pattern.exec(lines[i] ?? '');
    if (match) return match[1];
  }
  return undefined;
}
