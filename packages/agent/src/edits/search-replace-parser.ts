/**
 * The SEARCH/REPLACE block format: a filename alone on a line, then
 *
 * ```text
 * <<<<<<< SEARCH
 * exact lines from the file
 * =======
 * the lines that replace them
 * >>>>>>> REPLACE
 * ```
 *
 * usually inside a Markdown fence (the filename before the fence or just inside it). Later
 * blocks may leave the filename out and edit the file named last. An empty SEARCH creates the
 * file or appends to it. Shell blocks (```` ```bash ```` …) in the same reply are returned too,
 * so a caller can show or run them.
 */
import { EditErrorCodes, type EditError, type EditResult } from './edit-format-error.js';
import { parseFenceOpening } from './fence-line.js';
import { closestMatch } from './similarity-ratio.js';
import { splitLines } from './split-lines.js';

/** One SEARCH/REPLACE block: replace `search` (exact text, whole lines) in `path` with `replace`. */
export interface SearchReplaceEdit {
  kind: 'search-replace';
  /** The file as the model named it (matched to a known path when `validPaths` was given). */
  path: string;
  /** Text to find, whole lines with their line ends; empty means "create or append". */
  search: string;
  /** Replacement text, whole lines with their line ends. */
  replace: string;
  /** 1-based line of the `<<<<<<< SEARCH` marker in the reply. */
  line: number;
}

/** A fenced shell block (```` ```bash ```` and the like) found between the edit blocks. */
export interface ShellBlock {
  kind: 'shell';
  /** The fence's language, e.g. `bash`. */
  language: string;
  /** The block's content, lines with their line ends. */
  script: string;
  /** 1-based line of the opening fence in the reply. */
  line: number;
}

/** What a SEARCH/REPLACE reply contains, in reply order. */
export type SearchReplaceBlock = SearchReplaceEdit | ShellBlock;

/** Options for {@link parseSearchReplaceBlocks}. */
export interface SearchReplaceParseOptions {
  /**
   * The files the model may edit (workspace-relative). A name the model wrote that is not one of
   * them is matched by basename, then by similarity, so `test_repomap.py` finds
   * `tests/test_repomap.py`. @default [] (names are taken as written)
   */
  validPaths?: readonly string[];
}

const HEAD = /^<{5,9} SEARCH>?\s*$/;
const DIVIDER = /^={5,9}\s*$/;
const UPDATED = /^>{5,9} REPLACE\s*$/;

// Shell fences become shell blocks unless an edit block starts right inside them (models do put
// SEARCH/REPLACE blocks for shell scripts in ```sh fences).
const SHELL_LANGUAGES = ['bash', 'sh', 'shell', 'cmd', 'batch', 'powershell', 'ps1', 'zsh', 'fish', 'ksh', 'csh', 'tcsh'];
const SHELL_FENCE = new RegExp(`^\`\`\`(${SHELL_LANGUAGES.join('|')})`);

const isHead = (line: string | undefined): boolean => line !== undefined && HEAD.test(line.trim());
const isDivider = (line: string | undefined): boolean => line !== undefined && DIVIDER.test(line.trim());
const isUpdated = (line: string | undefined): boolean => line !== undefined && UPDATED.test(line.trim());

/**
 * The filename a line may carry: the rest of a fence line if it looks like a path (```` ```foo.py ````),
 * or the line itself without the decoration models add (`### foo.py`, `` `foo.py` ``, `**foo.py**:`).
 * `...` (elided code) is never a filename.
 */
function filenameOnLine(line: string): string | undefined {
  const text = line.trim();
  if (text === '...') return undefined;
  const fence = parseFenceOpening(text);
  if (fence !== undefined) {
    return fence.info !== '' && (fence.info.includes('.') || fence.info.includes('/')) ? fence.info : undefined;
  }
  const name = text
    .replace(/:+$/, '')
    .replace(/^#+/, '')
    .trim()
    .replace(/^`+|`+$/g, '')
    .replace(/^\*+|\*+$/g, '');
  return name === '' ? undefined : name;
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/**
 * The filename for an edit block, from the (up to three) lines before its SEARCH marker: the
 * nearest line that names something, looking further up only across fence lines. Among the
 * names seen, a known path wins (exact, then same basename, then a close spelling), then a
 * name with a dot in it, then the nearest name.
 *
 * @example
 * findFilename(['```python\n', 'file3.py\n', '```\n'], ['dir/file3.py']); // 'dir/file3.py'
 */
export function findFilename(precedingLines: readonly string[], validPaths: readonly string[] = []): string | undefined {
  const names: string[] = [];
  for (const line of [...precedingLines].reverse().slice(0, 3)) {
    const name = filenameOnLine(line);
    if (name !== undefined) names.push(name);
    if (parseFenceOpening(line) === undefined) break;
  }
  if (names.length === 0) return undefined;
  for (const name of names) if (validPaths.includes(name)) return name;
  for (const name of names) {
    const known = validPaths.find((path) => basename(path) === name);
    if (known !== undefined) return known;
  }
  for (const name of names) {
    const close = closestMatch(name, validPaths, 0.8);
    if (close !== undefined) return close;
  }
  return names.find((name) => name.includes('.')) ?? names[0];
}

function parseError(code: EditError['code'], block: number, line: number, message: string): { ok: false; error: EditError } {
  return { ok: false, error: { code, block, line, message: `SEARCH/REPLACE block ${block} (line ${line} of your reply): ${message}` } };
}

/**
 * Parses every SEARCH/REPLACE block (and shell block) in a model's reply, in order. A malformed
 * block fails the whole reply with a message naming the block and the line, since applying the
 * blocks before it would leave the model guessing which of its edits happened.
 *
 * @example
 * const parsed = parseSearchReplaceBlocks('app.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n');
 * parsed.ok && parsed.value; // [{ kind: 'search-replace', path: 'app.py', search: 'x = 1\n', replace: 'x = 2\n', line: 3 }]
 */
export function parseSearchReplaceBlocks(reply: string, options: SearchReplaceParseOptions = {}): EditResult<SearchReplaceBlock[]> {
  const lines = splitLines(reply);
  const validPaths = options.validPaths ?? [];
  const blocks: SearchReplaceBlock[] = [];
  let currentPath: string | undefined;
  let blockNumber = 0;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const shell = SHELL_FENCE.exec(line.trim());
    if (shell !== null && !isHead(lines[i + 1]) && !isHead(lines[i + 2])) {
      const start = i;
      const script: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trim().startsWith('```')) script.push(lines[i++] ?? '');
      if (i < lines.length) i++;
      blocks.push({ kind: 'shell', language: shell[1] ?? 'sh', script: script.join(''), line: start + 1 });
      continue;
    }
    if (isHead(line)) {
      blockNumber++;
      const headLine = i + 1;
      // A block whose SEARCH is empty creates a file: its name may be new, so it is not matched
      // against the known paths.
      const createsFile = isDivider(lines[i + 1]);
      const path = findFilename(lines.slice(Math.max(0, i - 3), i), createsFile ? [] : validPaths) ?? currentPath;
      if (path === undefined) {
        return parseError(
          EditErrorCodes.missingFilename,
          blockNumber,
          headLine,
          'no filename. Put the file path alone on the line before the opening fence (```), then the <<<<<<< SEARCH line.',
        );
      }
      currentPath = path;
      const search: string[] = [];
      i++;
      while (i < lines.length && !isDivider(lines[i])) search.push(lines[i++] ?? '');
      if (i >= lines.length) {
        return parseError(
          EditErrorCodes.missingDivider,
          blockNumber,
          headLine,
          `missing ======= divider after line ${lines.length} (the block for ${path} runs to the end of the reply). ` +
            'Each block needs <<<<<<< SEARCH, the exact old lines, =======, the new lines, >>>>>>> REPLACE.',
        );
      }
      const dividerLine = i + 1;
      const replace: string[] = [];
      i++;
      while (i < lines.length && !isUpdated(lines[i]) && !isDivider(lines[i])) replace.push(lines[i++] ?? '');
      if (i >= lines.length) {
        return parseError(
          EditErrorCodes.missingReplaceMarker,
          blockNumber,
          headLine,
          `missing >>>>>>> REPLACE after the ======= on line ${dividerLine} (the block for ${path} runs to the end of the reply). ` +
            'End each block with a >>>>>>> REPLACE line.',
        );
      }
      // A SEARCH marker inside REPLACE means this block's >>>>>>> REPLACE is missing and the text
      // ran into the next block (whose ======= then ended it): refuse rather than write that.
      const nested = replace.findIndex((text) => isHead(text));
      if (nested !== -1) {
        return parseError(
          EditErrorCodes.missingReplaceMarker,
          blockNumber,
          headLine,
          `missing >>>>>>> REPLACE after the ======= on line ${dividerLine}: the next <<<<<<< SEARCH (line ${dividerLine + 1 + nested}) starts before this block ends. ` +
            'End each block with a >>>>>>> REPLACE line.',
        );
      }
      blocks.push({ kind: 'search-replace', path, search: search.join(''), replace: replace.join(''), line: headLine });
    }
    i++;
  }
  return { ok: true, value: blocks };
}

/** True when the reply contains at least one `<<<<<<< SEARCH` line, i.e. the model meant to use the format. */
export function hasSearchReplaceMarkers(reply: string): boolean {
  return splitLines(reply).some((line) => isHead(line));
}
