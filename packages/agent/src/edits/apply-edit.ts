/**
 * Applying one SEARCH/REPLACE edit to a file's text.
 *
 * The order of attempts, safest first:
 * 1. the SEARCH lines exactly as written (whole lines; the first occurrence, with a note when
 *    there are several);
 * 2. the same lines with different leading whitespace, when every matched line is shifted by the
 *    SAME prefix — the REPLACE lines are then re-indented by that prefix (models often drop or
 *    add indentation, and a uniform shift is unambiguous);
 * 3. both again without a leading blank SEARCH line (models add one spuriously).
 * Anything looser (similar-looking lines) is refused: the model gets the closest lines instead
 * and can fix its block, which is safer than guessing.
 */
import { closestLines } from './closest-lines.js';
import { EditErrorCodes, type EditResult } from './edit-format-error.js';
import { splitLines, stripLineEnd } from './split-lines.js';

/** What {@link applySearchReplace} needs from an edit. */
export interface SearchReplaceInput {
  path: string;
  search: string;
  replace: string;
}

/** How an edit was applied. */
export const EditMethods = {
  /** The SEARCH lines were found as written. */
  exact: 'exact',
  /** Found with a uniform indentation shift; REPLACE re-indented the same way. */
  reindented: 'reindented',
  /** Empty SEARCH on a file that did not exist. */
  created: 'created',
  /** Empty SEARCH on an existing file: REPLACE appended. */
  appended: 'appended',
} as const;
/** One of {@link EditMethods}. */
export type EditMethod = (typeof EditMethods)[keyof typeof EditMethods];

/** The file text after one edit, and how it got there. */
export interface AppliedEdit {
  text: string;
  method: EditMethod;
  /** 1-based first line of the file that was replaced (or where text was appended). */
  line: number;
  /** Things the model should know although the edit applied (e.g. "SEARCH occurs 3 times; the first was replaced"). */
  notes: string[];
}

/** Options for {@link applySearchReplace}. */
export interface ApplySearchReplaceOptions {
  /** Block number for messages ("SEARCH/REPLACE block 3 …"). */
  block?: number;
}

interface Lines {
  /** Line contents without terminators. */
  text: string[];
  /** Each line's terminator ('' for a last line without one). */
  ends: string[];
}

function toLines(text: string): Lines {
  const raw = splitLines(text);
  return { text: raw.map(stripLineEnd), ends: raw.map((line) => line.slice(stripLineEnd(line).length)) };
}

const isBlank = (line: string): boolean => line.trim() === '';
const leadingWhitespace = (line: string): string => /^\s*/.exec(line)?.[0] ?? '';

/** Start indices of every place where `wanted` occurs in `lines` as whole consecutive lines. */
function exactMatches(lines: readonly string[], wanted: readonly string[]): number[] {
  const found: number[] = [];
  if (wanted.length === 0) return found;
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    let all = true;
    for (let j = 0; j < wanted.length; j++) {
      if (lines[i + j] !== wanted[j]) {
        all = false;
        break;
      }
    }
    if (all) found.push(i);
  }
  return found;
}

/**
 * Places where `wanted` occurs with one common whitespace prefix added to every non-blank line
 * (blank lines match blank lines). Returns each start and its prefix.
 */
function shiftedMatches(lines: readonly string[], wanted: readonly string[]): { start: number; prefix: string }[] {
  const found: { start: number; prefix: string }[] = [];
  if (wanted.every(isBlank)) return found;
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    let prefix: string | undefined;
    let all = true;
    for (let j = 0; j < wanted.length && all; j++) {
      const line = lines[i + j] ?? '';
      const want = wanted[j] ?? '';
      if (isBlank(want)) {
        all = isBlank(line);
        continue;
      }
      if (!line.endsWith(want)) {
        all = false;
        continue;
      }
      const added = line.slice(0, line.length - want.length);
      if (!/^\s*$/.test(added) || (prefix !== undefined && added !== prefix)) all = false;
      prefix = added;
    }
    if (all && prefix !== undefined) found.push({ start: i, prefix });
  }
  return found;
}

/** Removes the indentation every non-blank line of `search` and `replace` shares (counted in characters). */
function outdent(search: string[], replace: string[]): { search: string[]; replace: string[] } {
  const widths = [...search, ...replace].filter((line) => !isBlank(line)).map((line) => leadingWhitespace(line).length);
  const common = widths.length === 0 ? 0 : Math.min(...widths);
  const cut = (line: string): string => (isBlank(line) ? line : line.slice(common));
  return { search: search.map(cut), replace: replace.map(cut) };
}

/** The file's dominant line ending, used for REPLACE lines so an LF edit does not mix into a CRLF file. */
function dominantEnding(ends: readonly string[]): string {
  const crlf = ends.filter((end) => end === '\r\n').length;
  const lf = ends.filter((end) => end === '\n').length;
  return crlf > lf ? '\r\n' : '\n';
}

function joinLines(text: readonly string[], ends: readonly string[]): string {
  return text.map((line, i) => line + (ends[i] ?? '')).join('');
}

function describeOthers(starts: readonly number[], used: number): string {
  const others = starts.filter((start) => start !== used).map((start) => start + 1);
  return `lines ${[used + 1, ...others].slice(0, 10).join(', ')}${starts.length > 10 ? ', …' : ''}`;
}

/**
 * Applies one SEARCH/REPLACE edit to `content` (`undefined` when the file does not exist yet).
 * Never throws: a SEARCH that does not match comes back as an error naming the file and the
 * closest lines, so the model can correct its block.
 *
 * @example
 * applySearchReplace('    line1\n    line2\n', { path: 'a.py', search: 'line1\n', replace: 'new1\n' });
 * // { ok: true, value: { text: '    new1\n    line2\n', method: 'reindented', line: 1, notes: [] } }
 */
export function applySearchReplace(
  content: string | undefined,
  edit: SearchReplaceInput,
  options: ApplySearchReplaceOptions = {},
): EditResult<AppliedEdit> {
  const where = options.block === undefined ? `SEARCH/REPLACE for ${edit.path}` : `SEARCH/REPLACE block ${options.block} for ${edit.path}`;
  if (isBlank(edit.search)) {
    if (content === undefined) return { ok: true, value: { text: edit.replace, method: EditMethods.created, line: 1, notes: [] } };
    // An empty SEARCH appends (so a model can add to a file it has not seen); keep lines separate.
    const separator = content !== '' && !/[\r\n]$/.test(content) ? '\n' : '';
    return {
      ok: true,
      value: {
        text: content + separator + edit.replace,
        method: EditMethods.appended,
        line: splitLines(content).length + 1,
        notes: [`${edit.path} already exists; the empty SEARCH appended the REPLACE text to its end`],
      },
    };
  }
  if (content === undefined) {
    return {
      ok: false,
      error: {
        code: EditErrorCodes.fileState,
        path: edit.path,
        ...(options.block === undefined ? {} : { block: options.block }),
        message: `${where}: ${edit.path} does not exist. To create it, leave the SEARCH section empty and put the whole file in REPLACE.`,
      },
    };
  }

  const file = toLines(content);
  const ending = dominantEnding(file.ends);
  const searchAll = toLines(edit.search).text;
  const replaceAll = toLines(edit.replace).text;
  const replaceWhole = (start: number, length: number, replacement: readonly string[]): string => {
    const ends = replacement.map(() => ending);
    // Replacing the file's last line keeps its (missing) terminator.
    if (start + length === file.text.length && replacement.length > 0) ends[ends.length - 1] = file.ends[file.ends.length - 1] ?? '';
    return (
      joinLines(file.text.slice(0, start), file.ends.slice(0, start)) +
      joinLines(replacement, ends) +
      joinLines(file.text.slice(start + length), file.ends.slice(start + length))
    );
  };

  const variants: { search: string[]; replace: string[] }[] = [{ search: searchAll, replace: replaceAll }];
  if (searchAll.length > 1 && isBlank(searchAll[0] ?? '')) variants.push({ search: searchAll.slice(1), replace: replaceAll });
  for (const variant of variants) {
    const exact = exactMatches(file.text, variant.search);
    const first = exact[0];
    if (first !== undefined) {
      const notes =
        exact.length > 1
          ? [`the SEARCH text of ${where} occurs ${exact.length} times (${describeOthers(exact, first)}); the first, at line ${first + 1}, was replaced`]
          : [];
      return { ok: true, value: { text: replaceWhole(first, variant.search.length, variant.replace), method: EditMethods.exact, line: first + 1, notes } };
    }
    const outdented = outdent(variant.search, variant.replace);
    const shifted = shiftedMatches(file.text, outdented.search);
    const match = shifted[0];
    if (match !== undefined) {
      const reindented = outdented.replace.map((line) => (isBlank(line) ? line : match.prefix + line));
      const notes =
        shifted.length > 1
          ? [`the SEARCH text of ${where} occurs ${shifted.length} times (${describeOthers(shifted.map((s) => s.start), match.start)}); the first, at line ${match.start + 1}, was replaced`]
          : [];
      return {
        ok: true,
        value: { text: replaceWhole(match.start, outdented.search.length, reindented), method: EditMethods.reindented, line: match.start + 1, notes },
      };
    }
  }
  return {
    ok: false,
    error: {
      code: EditErrorCodes.noMatch,
      path: edit.path,
      ...(options.block === undefined ? {} : { block: options.block }),
      message: `${where}: the SEARCH lines were not found in ${edit.path}; SEARCH must match the file's lines exactly. ${closestLines(file.text, searchAll)}`,
    },
  };
}
