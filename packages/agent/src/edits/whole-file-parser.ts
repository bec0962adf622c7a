/**
 * The whole-file format: the model rewrites each file it changes in full, as a fenced block
 * with the file's path on the line before the fence (or in the fence's info string):
 *
 * ````text
 * src/app.py
 * ```python
 * …the complete new content…
 * ```
 * ````
 *
 * A block without a name is given one when the model mentioned a known file in the prose just
 * before it, or when only one file is being edited. Blocks named explicitly win over guessed ones.
 */
import { EditErrorCodes, type EditResult } from './edit-format-error.js';
import { closesFence, parseFenceOpening, type FenceOpening } from './fence-line.js';
import { splitLines } from './split-lines.js';
import { createUnifiedDiff } from './unified-diff.js';

/** How a whole-file block's path was found, most reliable first. */
export const FilenameSources = {
  /** Written on the line before the fence or in its info string. */
  named: 'named',
  /** A known file mentioned in the prose before the block. */
  mentioned: 'mentioned',
  /** The only known file. */
  onlyFile: 'only-file',
} as const;
/** One of {@link FilenameSources}. */
export type FilenameSource = (typeof FilenameSources)[keyof typeof FilenameSources];

/** One file's complete new content. */
export interface WholeFileEdit {
  kind: 'whole-file';
  path: string;
  content: string;
  /** 1-based line of the opening fence in the reply. */
  line: number;
  source: FilenameSource;
  /** The fence was never closed (a reply still streaming, or cut off): `content` is what arrived. */
  partial?: boolean;
}

/** Options for {@link parseWholeFileBlocks}. */
export interface WholeFileParseOptions {
  /**
   * The files being edited (workspace-relative). Used to resolve a named path with a bogus
   * directory by its basename, to recognise mentions in the prose, and to name an unnamed block
   * when there is exactly one. @default []
   */
  knownPaths?: readonly string[];
  /** Accept an unclosed final fence as a partial edit instead of an error (live previews). @default false */
  partial?: boolean;
  /**
   * Let a named path whose directory no known file lies in, or a bare file name in the prose,
   * stand for the one known file with that basename (`path/to/app.py` → `app.py`). Off, only
   * known paths written in full are matched: a guess can overwrite the wrong file. A named path
   * whose directory exists is never redirected either way. @default true
   */
  matchBasenames?: boolean;
}

const PATH_CHARS = /^[\w./\\@+~-]+$/;
const BARE_NAMES = new Set(['Makefile', 'Dockerfile', 'Gemfile', 'Rakefile', 'Procfile', 'Jenkinsfile', 'LICENSE', 'README']);

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/** A path-like token: has a dot or slash (or is a well-known bare file name), no spaces. */
function looksLikePath(token: string, knownPaths: readonly string[]): boolean {
  if (knownPaths.includes(token)) return true;
  return PATH_CHARS.test(token) && (/[./]/.test(token.replace(/^\.+/, '')) || BARE_NAMES.has(basename(token))) && !/^\.+$/.test(token);
}

/** The path written on a line that consists of a filename only (decoration such as `### `, `**`, backticks, a colon allowed). */
function filenameLine(line: string, knownPaths: readonly string[]): string | undefined {
  const name = line
    .trim()
    .replace(/^#+\s*/, '')
    .replace(/^(file|filename|path)\s*:\s*/i, '')
    .replace(/:+$/, '')
    .replace(/^[`*_]+|[`*_]+$/g, '')
    .replace(/:+$/, '')
    .trim();
  return name !== '' && !/\s/.test(name) && looksLikePath(name, knownPaths) ? name : undefined;
}

/** The path in a fence info string (```` ```python src/app.py ````, ```` ```src/app.py ````), if any. */
function filenameInInfo(fence: FenceOpening, knownPaths: readonly string[]): string | undefined {
  return fence.info
    .split(/\s+/)
    .map((token) => token.replace(/^(file|filename|path)[=:]/i, '').replace(/^["']|["']$/g, ''))
    .find((token) => token !== '' && looksLikePath(token, knownPaths));
}

/** A known file a prose line mentions (the last one, as the nearest to the following block). */
function mentionedPath(line: string, knownPaths: readonly string[], matchBasenames: boolean): string | undefined {
  let found: string | undefined;
  for (const word of line.split(/\s+/)) {
    const token = word.replace(/^[`*_"'([<]+|[`*_"')\]>,.:;!?]+$/g, '');
    if (token === '') continue;
    if (knownPaths.includes(token)) found = token;
    else if (matchBasenames) {
      const byName = knownPaths.filter((path) => basename(path) === token);
      if (byName.length === 1) found = byName[0];
    }
  }
  return found;
}

/**
 * A named path that is not known but whose basename is exactly one known file: that file (models
 * invent directories). Not when the named directory holds known files: then the model means a
 * new file there, and redirecting it would overwrite a file elsewhere.
 */
function resolveNamed(name: string, knownPaths: readonly string[], matchBasenames: boolean): string {
  if (!matchBasenames || knownPaths.length === 0 || knownPaths.includes(name)) return name;
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  const dir = slash === -1 ? '' : name.slice(0, slash + 1).replace(/\\/g, '/').replace(/^\.\//, '');
  if (dir !== '' && knownPaths.some((path) => path.startsWith(dir))) return name;
  const byName = knownPaths.filter((path) => basename(path) === basename(name));
  return byName.length === 1 ? (byName[0] as string) : name;
}

const RELIABILITY: Record<FilenameSource, number> = { named: 0, mentioned: 1, 'only-file': 2 };

/**
 * Parses the fenced whole-file blocks of a reply. Unnamed blocks that cannot be attributed are
 * taken as illustration and skipped; when the reply has fenced blocks but none can be attributed,
 * or a named block is never closed, the result is an error for the model. When several blocks end
 * up on one file, the most reliably named one is kept (the first among equals).
 *
 * @example
 * const parsed = parseWholeFileBlocks('hello.py\n```python\nprint("hi")\n```\n');
 * parsed.ok && parsed.value; // [{ kind: 'whole-file', path: 'hello.py', content: 'print("hi")\n', line: 2, source: 'named' }]
 */
export function parseWholeFileBlocks(reply: string, options: WholeFileParseOptions = {}): EditResult<WholeFileEdit[]> {
  const knownPaths = options.knownPaths ?? [];
  const matchBasenames = options.matchBasenames ?? true;
  const lines = splitLines(reply);
  const edits: WholeFileEdit[] = [];
  let mentioned: string | undefined;
  let unnamedBlocks = 0;
  let firstUnnamedLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = parseFenceOpening(line, { indented: true });
    if (fence === undefined) {
      mentioned = mentionedPath(line, knownPaths, matchBasenames) ?? mentioned;
      continue;
    }
    const openedAt = i + 1;
    let named = filenameInInfo(fence, knownPaths);
    // The filename line sits right before the fence, possibly with one blank line between.
    for (let back = i - 1; named === undefined && back >= 0 && back >= i - 2; back--) {
      const previous = lines[back] ?? '';
      if (previous.trim() === '') continue;
      named = filenameLine(previous, knownPaths);
      break;
    }
    const body: string[] = [];
    i++;
    while (i < lines.length && !closesFence(lines[i] ?? '', fence)) body.push(lines[i++] ?? '');
    const closed = i < lines.length;
    let path: string | undefined;
    let source: FilenameSource | undefined;
    if (named !== undefined) {
      path = resolveNamed(named, knownPaths, matchBasenames);
      source = FilenameSources.named;
    } else if (mentioned !== undefined) {
      path = mentioned;
      source = FilenameSources.mentioned;
    } else if (knownPaths.length === 1) {
      path = knownPaths[0];
      source = FilenameSources.onlyFile;
    }
    mentioned = undefined;
    if (path === undefined || source === undefined) {
      unnamedBlocks++;
      if (firstUnnamedLine === 0) firstUnnamedLine = openedAt;
      continue;
    }
    if (!closed && !options.partial) {
      return {
        ok: false,
        error: {
          code: EditErrorCodes.unclosedFence,
          path,
          line: openedAt,
          message: `the ${fence.marker} fence for ${path} opened on line ${openedAt} is never closed; end the file's content with a line containing only ${fence.marker.startsWith('<') ? `</${fence.marker.slice(1)}` : fence.marker}.`,
        },
      };
    }
    edits.push({ kind: 'whole-file', path, content: body.join(''), line: openedAt, source, ...(closed ? {} : { partial: true }) });
  }
  if (edits.length === 0 && unnamedBlocks > 0) {
    return {
      ok: false,
      error: {
        code: EditErrorCodes.missingFilename,
        line: firstUnnamedLine,
        message: `the fenced block on line ${firstUnnamedLine} has no filename. Put the file's path alone on the line before the opening fence, then the complete new content of the file inside the fence.`,
      },
    };
  }
  // One edit per file: the most reliably named, the first among equals.
  const best = new Map<string, WholeFileEdit>();
  for (const edit of edits) {
    const kept = best.get(edit.path);
    if (kept === undefined || RELIABILITY[edit.source] < RELIABILITY[kept.source]) best.set(edit.path, edit);
  }
  return { ok: true, value: edits.filter((edit) => best.get(edit.path) === edit) };
}

/** True when the reply has a fenced block with a filename (before the fence or in its info string). */
export function hasNamedFencedBlock(reply: string, knownPaths: readonly string[] = []): boolean {
  const lines = splitLines(reply);
  return lines.some((line, i) => {
    const fence = parseFenceOpening(line, { indented: true });
    if (fence === undefined) return false;
    if (filenameInInfo(fence, knownPaths) !== undefined) return true;
    const previous = lines[i - 1] ?? '';
    return parseFenceOpening(previous, { indented: true }) === undefined && filenameLine(previous, knownPaths) !== undefined;
  });
}

/**
 * Removes the wrapping a model may put around file content it was asked to give bare: a first
 * line naming the file, and an enclosing fence. Always ends with a newline (empty stays empty).
 *
 * @example
 * stripQuotedWrapping('app.py\n```\nprint(1)\n```', 'app.py'); // 'print(1)\n'
 */
export function stripQuotedWrapping(text: string, path?: string): string {
  if (text === '') return text;
  let lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  if (path !== undefined && (lines[0] ?? '').trim().endsWith(basename(path))) lines = lines.slice(1);
  if (lines.length >= 2 && parseFenceOpening(lines[0] ?? '') !== undefined && parseFenceOpening(lines[lines.length - 1] ?? '') !== undefined) {
    lines = lines.slice(1, -1);
  }
  const result = lines.join('\n');
  return result.endsWith('\n') ? result : `${result}\n`;
}

/**
 * A unified diff showing what a whole-file edit changes, for live previews while a reply
 * streams: a partial edit is compared with only as many lines of the original as have arrived,
 * so the preview shows the changes so far instead of the rest of the file being deleted.
 */
export function previewWholeFileEdit(original: string | undefined, edit: WholeFileEdit): string {
  const before = original ?? '';
  if (!edit.partial) return createUnifiedDiff(edit.path, before, edit.content);
  const arrived = splitLines(edit.content).length;
  const originalLines = splitLines(before);
  const head = originalLines.slice(0, arrived).join('');
  // Compare line ends alike: the streamed text always ends its lines, the original's slice may not.
  const normalise = (text: string): string => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
  const diff = createUnifiedDiff(edit.path, normalise(head), normalise(edit.content));
  const rest = originalLines.length - arrived;
  return rest > 0 ? `${diff}... (${rest} more line${rest === 1 ? '' : 's'} of ${edit.path} not received yet)\n` : diff;
}
