/**
 * When an edit does not match the file, the model needs to see what IS there: this finds the run
 * of file lines most like the lines it wanted and describes how they differ.
 */

/** The file lines most like the wanted lines. */
export interface ClosestWindow {
  /** 0-based index of the first file line. */
  start: number;
  /** Number of file lines compared (the wanted length, or the file's when shorter). */
  length: number;
  /** Mean line similarity in [0, 1]. */
  similarity: number;
}

// Scoring every window is (file lines × wanted lines) comparisons; past this, only equal lines count.
const FULL_SCORING_LIMIT = 4_000_000;

/** The character bigrams of a line as sorted numbers, so two lines compare by a linear merge. */
function bigramCodes(text: string): Uint32Array {
  const codes = new Uint32Array(Math.max(0, text.length - 1));
  for (let i = 0; i < text.length - 1; i++) codes[i] = text.charCodeAt(i) * 65536 + text.charCodeAt(i + 1);
  return codes.sort();
}

/** Sørensen–Dice similarity of two trimmed lines over their (sorted) bigrams. */
function dice(a: string, b: string, codesA: Uint32Array, codesB: Uint32Array): number {
  if (a === b) return 1;
  if (codesA.length === 0 || codesB.length === 0) return 0;
  let common = 0;
  for (let i = 0, j = 0; i < codesA.length && j < codesB.length; ) {
    const x = codesA[i] as number;
    const y = codesB[j] as number;
    if (x === y) {
      common++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return (2 * common) / (codesA.length + codesB.length);
}

/** Finds the window of `fileLines` (as long as `wanted`) most similar to `wanted`, or undefined if either is empty. */
export function findClosestWindow(fileLines: readonly string[], wanted: readonly string[]): ClosestWindow | undefined {
  if (fileLines.length === 0 || wanted.length === 0) return undefined;
  const length = Math.min(wanted.length, fileLines.length);
  const full = fileLines.length * wanted.length <= FULL_SCORING_LIMIT;
  const wantedTrimmed = wanted.map((line) => line.trim());
  const fileTrimmed = fileLines.map((line) => line.trim());
  const wantedCodes = full ? wantedTrimmed.map(bigramCodes) : [];
  const fileCodes: (Uint32Array | undefined)[] = new Array(fileLines.length);
  const similarity = (j: number, i: number): number => {
    const a = wantedTrimmed[j] ?? '';
    const b = fileTrimmed[i] ?? '';
    if (!full) return a === b ? 1 : 0;
    const codes = fileCodes[i] ?? (fileCodes[i] = bigramCodes(b));
    return dice(a, b, wantedCodes[j] as Uint32Array, codes);
  };
  let best: ClosestWindow | undefined;
  for (let start = 0; start + length <= fileLines.length; start++) {
    let total = 0;
    for (let j = 0; j < length; j++) total += similarity(j, start + j);
    const score = total / wanted.length;
    if (best === undefined || score > best.similarity) best = { start, length, similarity: score };
  }
  return best;
}

const clip = (text: string): string => (text.length > 160 ? `${text.slice(0, 157)}...` : text);

/** Options for {@link closestLines}. */
export interface ClosestLinesOptions {
  /** What the model wrote, as the message should call it ("SEARCH", "old_str", "hunk"). @default 'SEARCH' */
  label?: string;
  /** How many differing lines to show at most. @default 8 */
  maxShown?: number;
}

/**
 * A message fragment for the model: which file lines come closest to what it wanted (1-based
 * line numbers, similarity) and, line by line, how they differ — or that nothing resembles it.
 *
 * @example
 * closestLines(['def f():', '    return 1'], ['def f():', '    return 2']);
 * // 'The closest lines in the file are 1-2 (96% similar). Where they differ (- your SEARCH, + the file): …'
 */
export function closestLines(fileLines: readonly string[], wanted: readonly string[], options: ClosestLinesOptions = {}): string {
  const label = options.label ?? 'SEARCH';
  const maxShown = options.maxShown ?? 8;
  const window = findClosestWindow(fileLines, wanted);
  if (window === undefined) return fileLines.length === 0 ? 'The file is empty.' : '';
  const first = window.start + 1;
  const last = window.start + window.length;
  const range = first === last ? `line ${first}` : `lines ${first}-${last}`;
  const percent = Math.round(window.similarity * 100);
  if (window.similarity < 0.3) {
    return `Nothing in the file resembles your ${label} lines (the best candidate, ${range}, is ${percent}% similar); check the file name and re-read the file before editing.`;
  }
  const shown: string[] = [];
  let differing = 0;
  for (let j = 0; j < wanted.length; j++) {
    const mine = wanted[j] ?? '';
    const lineIndex = window.start + j;
    const theirs = j < window.length ? fileLines[lineIndex] : undefined;
    if (theirs === mine) continue;
    differing++;
    if (shown.length >= maxShown * 2) continue;
    // Whitespace-only differences are invisible in plain text: quote both lines to show them.
    const whitespaceOnly = theirs !== undefined && theirs.trim() === mine.trim();
    const show = (text: string): string => (whitespaceOnly ? JSON.stringify(text) : clip(text));
    shown.push(`- ${label} line ${j + 1}: ${show(mine)}${whitespaceOnly ? '   (differs only in whitespace)' : ''}`);
    shown.push(theirs === undefined ? '+ (the file ends here)' : `+ file line ${lineIndex + 1}: ${show(theirs)}`);
  }
  const more = differing > maxShown ? `\n(${differing - maxShown} more differing lines not shown)` : '';
  return (
    `The closest lines in the file are ${range} (${percent}% similar). ` +
    `Where they differ (- your ${label}, + the file):\n${shown.join('\n')}${more}\n` +
    `Copy the lines exactly as they appear in the file (re-read it if unsure).`
  );
}
