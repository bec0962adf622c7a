/**
 * Unified diffs: parsing (`diff -u`, `git diff`, and the line-number-free `@@ ... @@` hunks
 * models like to write), applying one file's hunks to text with a bounded fuzz, and writing a
 * diff between two texts (for previews and messages).
 *
 * Applying follows the rules of jsdiff's `applyPatch` (its test cases are the acceptance corpus):
 * each hunk is tried where its header says (shifted by how far earlier hunks moved), then at
 * growing distances before and after; lines to delete, and the lines right next to an insertion,
 * must match exactly; with `fuzzFactor` n, up to n other context lines may be missing, extra or
 * changed. "\ No newline at end of file" markers add or remove the final newline.
 */
import { closestLines } from './closest-lines.js';
import { EditErrorCodes, type EditError, type EditResult } from './edit-format-error.js';
import { closesFence, parseFenceOpening } from './fence-line.js';
import { splitLines } from './split-lines.js';

/** One hunk of a file patch. */
export interface DiffHunk {
  /** 1-based first old line (for `oldLines` 0: the line after which the hunk inserts). */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Lines with their prefix: `' '` context, `'-'` removed, `'+'` added, `'\'` "No newline at end of file". */
  lines: string[];
  /** The header gave no line numbers (`@@ ... @@`): the hunk applies where its context is found. */
  loose?: boolean;
  /** 1-based line of the hunk header in the diff text (0 when there was no header). */
  line?: number;
}

/** The hunks for one file, with the names from its `---`/`+++` headers. */
export interface FilePatch {
  /** Path from the `---` header (undefined for `/dev/null`, i.e. a new file). */
  oldPath?: string;
  /** Path from the `+++` header (undefined for `/dev/null`, i.e. a deleted file). */
  newPath?: string;
  /** What followed the name after a tab in the headers (timestamps, labels). */
  oldHeader?: string;
  newHeader?: string;
  hunks: DiffHunk[];
  /** The patch came from `git diff` (paths carry `a/` and `b/` prefixes). */
  git?: boolean;
  /** The patch changes a binary file (`Binary files … differ`, `GIT binary patch`); cannot be applied as text. */
  binary?: boolean;
  /** 1-based line in the diff text where this file's patch starts. */
  line?: number;
}

/** Options for {@link parseUnifiedDiff}. */
export interface ParseDiffOptions {
  /**
   * Hold hunks to their header counts and refuse text between hunks (as `patch` does). Off, the
   * parser takes diffs as models write them: wrong counts are recounted, hunks without line
   * numbers or without `@@` lines are accepted, prose between files is skipped. @default false
   */
  strict?: boolean;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const EXTENDED_HEADER = /^(index |new file mode |deleted file mode |old mode |new mode |similarity index |dissimilarity index |rename from |rename to |copy from |copy to )/;
const bare = (line: string | undefined): string => (line ?? '').replace(/\r$/, '');
const isHunkBodyLine = (line: string): boolean => line === '' || ' +-\\'.includes(line[0] ?? '');

function unquote(path: string): string {
  if (!(path.startsWith('"') && path.endsWith('"') && path.length >= 2)) return path;
  return path
    .slice(1, -1)
    .replace(/\\([\\"tn])/g, (_, c: string) => ({ t: '\t', n: '\n' })[c as 't' | 'n'] ?? c);
}

/** Splits `--- name<TAB>header` into the name (undefined for /dev/null) and the header. */
function parseFileHeader(line: string): { path?: string; header?: string } {
  const rest = bare(line).slice(4);
  const tab = rest.indexOf('\t');
  const name = unquote((tab === -1 ? rest : rest.slice(0, tab)).trim());
  const header = tab === -1 ? undefined : rest.slice(tab + 1);
  return { ...(name === '/dev/null' || name === '' ? {} : { path: name }), ...(header === undefined ? {} : { header }) };
}

function malformed(line: number, message: string): { ok: false; error: EditError } {
  return { ok: false, error: { code: EditErrorCodes.malformedDiff, line, message: `diff line ${line}: ${message}` } };
}

function countLines(lines: readonly string[]): { oldLines: number; newLines: number } {
  let oldLines = 0;
  let newLines = 0;
  for (const line of lines) {
    if (line[0] === ' ' || line[0] === '-') oldLines++;
    if (line[0] === ' ' || line[0] === '+') newLines++;
  }
  return { oldLines, newLines };
}

/**
 * Parses a unified diff (one or many files) into {@link FilePatch}es. Never throws: a malformed
 * diff comes back as an error naming the line.
 *
 * @example
 * const parsed = parseUnifiedDiff('--- a.txt\n+++ a.txt\n@@ -1 +1 @@\n-old\n+new\n');
 * parsed.ok && parsed.value[0]?.hunks[0]?.lines; // ['-old', '+new']
 */
export function parseUnifiedDiff(text: string, options: ParseDiffOptions = {}): EditResult<FilePatch[]> {
  const strict = options.strict ?? false;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const files: FilePatch[] = [];
  let current: FilePatch | undefined;
  const isFileHeaderAt = (i: number): boolean => bare(lines[i]).startsWith('--- ') && bare(lines[i + 1]).startsWith('+++ ');
  const startsSomethingNew = (i: number): boolean => {
    const line = bare(lines[i]);
    return line.startsWith('@@') || line.startsWith('diff ') || line.startsWith('Index: ') || isFileHeaderAt(i);
  };
  const startFile = (line: number, git = false): FilePatch => {
    current = { hunks: [], line, ...(git ? { git } : {}) };
    files.push(current);
    return current;
  };

  let i = 0;
  while (i < lines.length) {
    const line = bare(lines[i]);
    if (line.startsWith('diff --git ')) {
      const file = startFile(i + 1, true);
      // Fallback names for patches without ---/+++ (mode changes, binaries): "diff --git a/x b/x".
      const names = /^diff --git (\S+) (\S+)$/.exec(line);
      if (names !== null) {
        file.oldPath = names[1];
        file.newPath = names[2];
      }
      i++;
    } else if (line.startsWith('Index: ')) {
      if (current === undefined || current.hunks.length > 0 || current.oldPath !== undefined || current.newPath !== undefined) {
        startFile(i + 1);
      }
      i++;
    } else if (/^={10,}$/.test(line)) {
      i++;
    } else if (isFileHeaderAt(i)) {
      const file =
        current === undefined || current.hunks.length > 0 || current.oldHeader !== undefined || current.binary
          ? startFile(i + 1)
          : current;
      const old = parseFileHeader(lines[i] ?? '');
      const next = parseFileHeader(lines[i + 1] ?? '');
      // "--- /dev/null" marks a new file and "+++ /dev/null" a deleted one, also after "diff --git".
      if (old.path === undefined) delete file.oldPath;
      else file.oldPath = old.path;
      if (next.path === undefined) delete file.newPath;
      else file.newPath = next.path;
      file.oldHeader = old.header ?? '';
      if (next.header !== undefined) file.newHeader = next.header;
      if (!file.git && file.oldPath?.startsWith('a/') && file.newPath?.startsWith('b/')) file.git = true;
      i += 2;
    } else if (line.startsWith('@@')) {
      const file = current ?? startFile(i + 1);
      const parsed = parseHunk(lines, i, strict, startsSomethingNew);
      if (!parsed.ok) return parsed;
      file.hunks.push(parsed.value.hunk);
      i = parsed.value.next;
    } else if (current !== undefined && (line.startsWith('Binary files ') || line === 'GIT binary patch')) {
      current.binary = true;
      i++;
    } else if (current !== undefined && EXTENDED_HEADER.test(line)) {
      i++;
    } else if (!strict && current !== undefined && current.hunks.length === 0 && current.oldHeader !== undefined && /^[-+ ]/.test(line)) {
      // Headers followed straight by changes, without an @@ line: one hunk without line numbers.
      const parsed = parseHunk(lines, i, strict, startsSomethingNew, true);
      if (!parsed.ok) return parsed;
      current.hunks.push(parsed.value.hunk);
      i = parsed.value.next;
    } else if (line.trim() === '' || !strict) {
      i++;
    } else {
      return malformed(i + 1, `unexpected text ${JSON.stringify(line.slice(0, 80))} outside a hunk`);
    }
  }
  return { ok: true, value: files };
}

function parseHunk(
  lines: readonly string[],
  start: number,
  strict: boolean,
  startsSomethingNew: (i: number) => boolean,
  headerless = false,
): EditResult<{ hunk: DiffHunk; next: number }> {
  const header = headerless ? undefined : HUNK_HEADER.exec(bare(lines[start]));
  let i = headerless ? start : start + 1;
  const body: string[] = [];
  // Lines are taken as long as they look like hunk lines and nothing new starts; an empty line is
  // a context line for an empty line (editors strip the lone space).
  const takeLoose = (): void => {
    while (i < lines.length && isHunkBodyLine(lines[i] ?? '') && !startsSomethingNew(i)) body.push(lines[i++] ?? '');
    while (body.length > 0 && body[body.length - 1] === '') {
      body.pop();
      i--;
    }
  };
  const normalise = (line: string): string => (line === '' ? ' ' : line);

  if (header === undefined || header === null) {
    if (!headerless && strict) return malformed(start + 1, `hunk header ${JSON.stringify(bare(lines[start]))} has no line numbers (expected "@@ -a,b +c,d @@")`);
    takeLoose();
    const counts = countLines(body);
    return {
      ok: true,
      value: { hunk: { oldStart: 0, newStart: 0, ...counts, lines: body.map(normalise), loose: true, line: headerless ? 0 : start + 1 }, next: i },
    };
  }

  const oldStart = Number(header[1]);
  const oldLines = header[2] === undefined ? 1 : Number(header[2]);
  const newStart = Number(header[3]);
  const newLines = header[4] === undefined ? 1 : Number(header[4]);
  let removed = 0;
  let added = 0;
  // Counted: exactly the lines the header announces (so "--- x" inside a hunk is a removed "-- x").
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const op = line === '' ? ' ' : line[0];
    if (removed < oldLines || added < newLines) {
      if (op === '\\') {
        body.push(line);
        i++;
        continue;
      }
      if (op !== ' ' && op !== '-' && op !== '+') break;
      if (line.startsWith('@@')) break;
      body.push(line);
      if (op !== '+') removed++;
      if (op !== '-') added++;
      i++;
    } else if (op === '\\') {
      body.push(line);
      i++;
    } else {
      break;
    }
  }
  const countsMet = removed >= oldLines && added >= newLines;
  if (strict) {
    if (!countsMet) {
      return malformed(
        start + 1,
        `hunk "${bare(lines[start])}" announces ${oldLines} old and ${newLines} new lines but has ${removed} and ${added}`,
      );
    }
  } else {
    // Models miscount. Too few lines: take what looks like hunk lines and recount. Too many: the
    // hunk lines that follow the counted ones without a blank line belong to it too ("-- " is
    // the signature line of `git format-patch` mail, not a removal).
    if (!countsMet) takeLoose();
    else {
      while (i < lines.length && (lines[i] ?? '') !== '' && isHunkBodyLine(lines[i] ?? '') && !startsSomethingNew(i) && bare(lines[i]) !== '-- ') {
        body.push(lines[i++] ?? '');
      }
    }
  }
  const recount = countLines(body);
  const exact = recount.oldLines === oldLines && recount.newLines === newLines;
  return {
    ok: true,
    value: {
      hunk: {
        oldStart,
        oldLines: exact ? oldLines : recount.oldLines,
        newStart,
        newLines: exact ? newLines : recount.newLines,
        lines: body.map(normalise),
        line: start + 1,
      },
      next: i,
    },
  };
}

/**
 * The unified diffs in a model's reply: the contents of its ```` ```diff ```` / ```` ```patch ````
 * fences, or, when there are none, the reply itself if it has `---`/`+++` or `@@` lines.
 */
export function extractUnifiedDiffs(reply: string): EditResult<FilePatch[]> {
  const lines = splitLines(reply);
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = parseFenceOpening(lines[i] ?? '', { indented: true });
    if (fence === undefined || !/^(diff|patch|udiff)\b/i.test(fence.info)) continue;
    const body: string[] = [];
    i++;
    while (i < lines.length && !closesFence(lines[i] ?? '', fence)) body.push(lines[i++] ?? '');
    bodies.push(body.join(''));
  }
  if (bodies.length === 0 && looksLikeUnifiedDiff(reply)) bodies.push(reply);
  const files: FilePatch[] = [];
  for (const body of bodies) {
    const parsed = parseUnifiedDiff(body);
    if (!parsed.ok) return parsed;
    files.push(...parsed.value);
  }
  return { ok: true, value: files.filter((file) => file.hunks.length > 0 || file.binary) };
}

/** True when the text has a `---`/`+++` header pair followed by changes, or a numbered `@@` hunk header. */
export function looksLikeUnifiedDiff(text: string): boolean {
  const lines = text.split('\n').map((line) => bare(line));
  return lines.some(
    (line, i) => (line.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ ')) || HUNK_HEADER.test(line),
  );
}

/** Options for {@link resolvePatchTargetPath}. */
export interface PatchPathOptions {
  /**
   * Whether a workspace-relative path exists (as a file or a directory). Asked about `a` and `b`
   * when a header without `diff --git` carries an `a/` or `b/` prefix, so a workspace that really
   * has such a directory keeps the name as written. @default () => false
   */
  exists?: (path: string) => boolean;
}

/**
 * The workspace path a file patch changes: the new name (the old one for a deletion), with git's
 * `a/`/`b/` prefixes removed. After `diff --git` (or when both headers carry them) the prefixes
 * are always git's. Otherwise (`--- /dev/null` + `+++ b/src/new.js`, `--- a/src/a.js` +
 * `+++ /dev/null`, models writing git-style headers without the `diff --git` line) a leading
 * `b/` (`a/` for a deletion) is removed unless `exists` says the workspace has that directory.
 *
 * @example
 * resolvePatchTargetPath({ newPath: 'b/src/new.js', hunks: [] }); // 'src/new.js'
 * resolvePatchTargetPath({ newPath: 'b/x.js', hunks: [] }, { exists: (p) => p === 'b' }); // 'b/x.js'
 */
export function resolvePatchTargetPath(patch: FilePatch, options: PatchPathOptions = {}): string | undefined {
  const [path, prefix] = patch.newPath !== undefined ? [patch.newPath, 'b/'] : [patch.oldPath, 'a/'];
  if (path === undefined || !path.startsWith(prefix)) return path;
  if (patch.git) return path.slice(prefix.length);
  return options.exists?.(prefix.slice(0, -1)) ? path : path.slice(prefix.length);
}

/**
 * The workspace path a file patch changes, as {@link resolvePatchTargetPath} reads it without a
 * workspace to ask (an `a/` or `b/` prefix is always taken for git's). One argument, so it can be
 * mapped over a parsed diff (`files.map(patchTargetPath)`).
 */
export function patchTargetPath(patch: FilePatch): string | undefined {
  return resolvePatchTargetPath(patch);
}

// ---------------------------------------------------------------------------------------------
// Applying

/** Options for {@link applyPatch}. */
export interface ApplyPatchOptions {
  /**
   * How many context lines may be missing, extra or different in the file. Lines to delete and
   * lines next to an insertion must match regardless. @default 0
   */
  fuzzFactor?: number;
  /**
   * When the file consistently uses CRLF and the patch LF (or the other way round), treat the
   * patch as if it used the file's line ends. @default true
   */
  autoConvertLineEndings?: boolean;
  /** Decides whether a file line (1-based `lineNumber`) matches a patch line. @default exact equality */
  compareLine?: (lineNumber: number, line: string, operation: '-' | ' ', patchContent: string) => boolean;
}

/** Where each hunk went, for messages ("hunk 2 applied at line 31, 3 lines below where it said"). */
export interface HunkPlacement {
  /** 1-based line in the original file where the hunk's old lines start. */
  line: number;
  /** How many lines away from the header's position it applied (0 for loose hunks). */
  offset: number;
  /** Context lines that were missing, extra or different (at most `fuzzFactor`). */
  fuzz: number;
}

/** A successfully applied file patch. */
export interface AppliedPatch {
  text: string;
  placements: HunkPlacement[];
}

type LineEnding = 'lf' | 'crlf' | 'mixed' | 'none';

function sourceLineEnding(text: string): LineEnding {
  const lf = text.split('\n').length - 1;
  if (lf === 0) return 'none';
  const crlf = text.split('\r\n').length - 1;
  if (crlf === lf) return 'crlf';
  return crlf === 0 ? 'lf' : 'mixed';
}

/** Lines that end with a newline in the patch: every change line not followed by a "\ No newline" marker. */
function newlineTerminated(hunk: DiffHunk): boolean[] {
  return hunk.lines.map((line, i) => line[0] !== '\\' && !(hunk.lines[i + 1] ?? '').startsWith('\\'));
}

function convertLineEndings(source: string, hunks: DiffHunk[]): DiffHunk[] {
  const target = sourceLineEnding(source);
  if (target !== 'lf' && target !== 'crlf') return hunks;
  const relevant = hunks.flatMap((hunk) => hunk.lines.filter((_, i) => newlineTerminated(hunk)[i]));
  if (relevant.length === 0) return hunks;
  const withCr = relevant.filter((line) => line.endsWith('\r')).length;
  const patchStyle: LineEnding = withCr === relevant.length ? 'crlf' : withCr === 0 ? 'lf' : 'mixed';
  if (patchStyle === 'mixed' || patchStyle === target) return hunks;
  return hunks.map((hunk) => {
    const terminated = newlineTerminated(hunk);
    return {
      ...hunk,
      lines: hunk.lines.map((line, i) => {
        if (!terminated[i]) return line;
        return target === 'crlf' ? `${line}\r` : line.replace(/\r$/, '');
      }),
    };
  });
}

interface HunkShape {
  /** The lines the hunk expects in the file (context and removed), in order. */
  old: { op: '-' | ' '; text: string }[];
  /** Added lines in each gap: gap g comes before old[g]; gap old.length after the last. */
  gaps: string[][];
}

function shapeOf(hunk: DiffHunk): HunkShape {
  const old: HunkShape['old'] = [];
  const gaps: string[][] = [[]];
  for (const line of hunk.lines) {
    const op = line[0];
    if (op === '+') (gaps[gaps.length - 1] as string[]).push(line.slice(1));
    else if (op === ' ' || op === '-') {
      old.push({ op, text: line.slice(1) });
      gaps.push([]);
    }
  }
  return { old, gaps };
}

type Step = 'match' | 'substitute' | 'missing' | 'skip';

/** Tables {@link alignAt} can reuse from one candidate position to the next. */
interface AlignScratch {
  cost: Int32Array;
  from: Uint8Array;
}

/**
 * The cheapest way to lay the hunk's old lines over the file starting at `start`: each context
 * line matches, or (costing 1) is changed, missing, or has an extra file line before it. Returns
 * undefined when it costs more than `budget`.
 */
function alignAt(
  lines: readonly string[],
  shape: HunkShape,
  start: number,
  budget: number,
  matches: (lineIndex: number, op: '-' | ' ', text: string) => boolean,
  scratch?: AlignScratch,
): { cost: number; steps: Step[]; consumed: number } | undefined {
  const k = shape.old.length;
  if (budget === 0) {
    // Exact placement: a straight comparison, no alignment table needed.
    for (let h = 0; h < k; h++) {
      const item = shape.old[h] as HunkShape['old'][number];
      if (start + h >= lines.length || !matches(start + h, item.op, item.text)) return undefined;
    }
    return { cost: 0, steps: shape.old.map(() => 'match' as const), consumed: k };
  }
  const width = k + budget + 1;
  const stride = width + 1;
  const INF = 0x3fffffff;
  // One flat table, reused across positions; a row is cleared only when the search gets to it,
  // so positions that fail in their first rows (the usual case) cost little.
  const size = (k + 1) * stride;
  const cost = scratch !== undefined && scratch.cost.length >= size ? scratch.cost : new Int32Array(size);
  const from = scratch !== undefined && scratch.from.length >= size ? scratch.from : new Uint8Array(size);
  const STEP_CODES: Step[] = ['match', 'substitute', 'missing', 'skip'];
  // An old line next to an insertion pins where the insertion goes, so it must match exactly;
  // likewise no extra file lines may sit inside an insertion point.
  const anchored = shape.old.map((_, h) => (shape.gaps[h]?.length ?? 0) > 0 || (shape.gaps[h + 1]?.length ?? 0) > 0);
  cost.fill(INF, 0, stride);
  cost[0] = 0;
  for (let h = 0; h <= k; h++) {
    const row = h * stride;
    if (h < k) cost.fill(INF, row + stride, row + 2 * stride);
    // Costs only grow from here on: a row already over budget ends the search at this position.
    let rowMin = INF;
    for (let t = 0; t <= width; t++) rowMin = Math.min(rowMin, cost[row + t] as number);
    if (rowMin > budget) return undefined;
    for (let t = 0; t <= width; t++) {
      const c = cost[row + t] as number;
      if (c > budget) continue;
      const s = start + t;
      const relax = (hh: number, tt: number, value: number, step: number): void => {
        if (tt > width || value > budget) return;
        const at = hh * stride + tt;
        if (value < (cost[at] as number)) {
          cost[at] = value;
          from[at] = step;
        }
      };
      if (h > 0 && h < k && (shape.gaps[h]?.length ?? 0) === 0 && s < lines.length) relax(h, t + 1, c + 1, 3);
      if (h === k) continue;
      const item = shape.old[h] as HunkShape['old'][number];
      if (s < lines.length && matches(s, item.op, item.text)) relax(h + 1, t + 1, c, 0);
      if (item.op === ' ' && !anchored[h]) {
        if (s < lines.length) relax(h + 1, t + 1, c + 1, 1);
        relax(h + 1, t, c + 1, 2);
      }
    }
  }
  const lastRow = k * stride;
  let best = -1;
  for (let t = 0; t <= width; t++) {
    const value = cost[lastRow + t] as number;
    if (value <= budget && (best === -1 || value < (cost[lastRow + best] as number))) best = t;
  }
  if (best === -1) return undefined;
  const steps: Step[] = [];
  for (let h = k, t = best; h > 0 || t > 0; ) {
    const step = STEP_CODES[from[h * stride + t] as number] as Step;
    steps.push(step);
    if (step === 'match' || step === 'substitute') {
      h--;
      t--;
    } else if (step === 'missing') h--;
    else t--;
  }
  steps.reverse();
  return { cost: cost[lastRow + best] as number, steps, consumed: best };
}

/**
 * The patched lines for an alignment (file lines kept for context and extras, removals dropped,
 * insertions added) and where the hunk's consumption of the file ends. Trailing context — the
 * context lines after the hunk's last change — is left unconsumed, so the next hunk may start
 * inside it (hunks whose ranges overlap in their context still apply, as with jsdiff).
 */
function patchedLines(lines: readonly string[], shape: HunkShape, start: number, steps: readonly Step[]): { out: string[]; end: number } {
  let trailingFrom = shape.old.length;
  while (trailingFrom > 0 && shape.old[trailingFrom - 1]?.op === ' ' && (shape.gaps[trailingFrom]?.length ?? 0) === 0) trailingFrom--;
  const out: string[] = [];
  let s = start;
  let h = 0;
  for (const step of steps) {
    if (step === 'skip') {
      out.push(lines[s++] ?? '');
      continue;
    }
    out.push(...(shape.gaps[h] ?? []));
    if (h >= trailingFrom) return { out, end: s };
    const item = shape.old[h] as HunkShape['old'][number];
    if (step === 'match' || step === 'substitute') {
      if (item.op === ' ') out.push(lines[s] ?? '');
      s++;
    }
    h++;
  }
  out.push(...(shape.gaps[h] ?? []));
  return { out, end: s };
}

function* outward(start: number, min: number, max: number): Generator<number> {
  if (min > max) return;
  const first = Math.min(Math.max(start, min), max);
  yield first;
  for (let d = 1; first + d <= max || first - d >= min; d++) {
    if (first + d <= max) yield first + d;
    if (first - d >= min) yield first - d;
  }
}

function hunkLabel(hunk: DiffHunk, index: number, total: number): string {
  const header = hunk.loose ? '@@ ... @@' : `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`;
  return `hunk ${index + 1} of ${total} (${header}${hunk.line ? `, diff line ${hunk.line}` : ''})`;
}

/**
 * Applies one file's patch to `source`, or says which hunk failed and which lines of the file
 * came closest. Throws only for a programming error (an invalid `fuzzFactor`).
 */
export function applyFilePatch(source: string, patch: FilePatch, options: ApplyPatchOptions = {}, path = patchTargetPath(patch) ?? 'the file'): EditResult<AppliedPatch> {
  const fuzz = options.fuzzFactor ?? 0;
  if (!Number.isInteger(fuzz) || fuzz < 0) throw new Error('fuzzFactor must be a non-negative integer');
  if (patch.hunks.length === 0) return { ok: true, value: { text: source, placements: [] } };
  const hunks = options.autoConvertLineEndings === false ? patch.hunks : convertLineEndings(source, patch.hunks);
  const failure = (message: string, line?: number): { ok: false; error: EditError } => ({
    ok: false,
    error: { code: EditErrorCodes.hunkFailed, message, path, ...(line === undefined ? {} : { line }) },
  });

  // The final newline: a marker after a '+' line means the new file has none, after a '-' line
  // that the old file had none. Asking to remove a newline that is not there (or add one that is)
  // fails at fuzz 0 and is ignored otherwise.
  const lines = source.split('\n');
  const lastHunk = hunks[hunks.length - 1] as DiffHunk;
  let newHasNoEol = false;
  let oldHasNoEol = false;
  lastHunk.lines.forEach((line, i) => {
    if (line[0] !== '\\') return;
    const before = lastHunk.lines[i - 1]?.[0];
    if (before === '+') newHasNoEol = true;
    else if (before === '-') oldHasNoEol = true;
  });
  const endsWithNewline = lines[lines.length - 1] === '';
  if (newHasNoEol && oldHasNoEol) {
    if (endsWithNewline && fuzz === 0) return failure(`${path} ends with a newline, but the patch says its last line has none ("\\ No newline at end of file")`);
  } else if (newHasNoEol) {
    if (endsWithNewline) lines.pop();
    else if (fuzz === 0) return failure(`the patch removes the final newline of ${path}, but the file has none`);
  } else if (oldHasNoEol) {
    if (!endsWithNewline) lines.push('');
    else if (fuzz === 0) return failure(`the patch adds a final newline to ${path}, but the file already ends with one`);
  }

  const compare = options.compareLine;
  const matches = (index: number, op: '-' | ' ', text: string): boolean =>
    compare === undefined ? lines[index] === text : compare(index + 1, lines[index] ?? '', op, text);

  const out: string[] = [];
  const placements: HunkPlacement[] = [];
  let minLine = 0;
  let offset = 0;
  for (const [index, hunk] of hunks.entries()) {
    const shape = shapeOf(hunk);
    const base = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
    const expected = hunk.loose ? minLine : base + offset;
    const maxLine = lines.length - shape.old.length + fuzz;
    let chosen: { start: number; cost: number; steps: Step[]; consumed: number } | undefined;
    // Exact placements first, nearest to where the header says; then the least fuzzy one.
    for (const start of outward(expected, minLine, maxLine)) {
      const aligned = alignAt(lines, shape, start, 0, matches);
      if (aligned !== undefined) {
        chosen = { start, ...aligned };
        break;
      }
    }
    if (chosen === undefined && fuzz > 0) {
      const size = (shape.old.length + 1) * (shape.old.length + fuzz + 3);
      const scratch: AlignScratch = { cost: new Int32Array(size), from: new Uint8Array(size) };
      for (const start of outward(expected, minLine, maxLine)) {
        const aligned = alignAt(lines, shape, start, chosen === undefined ? fuzz : chosen.cost - 1, matches, scratch);
        if (aligned !== undefined && (chosen === undefined || aligned.cost < chosen.cost)) chosen = { start, ...aligned };
      }
    }
    if (chosen === undefined) {
      const wanted = shape.old.map((item) => item.text);
      const hint = closestLines(lines.slice(0, endsWithNewline && !newHasNoEol ? lines.length - 1 : lines.length), wanted, { label: 'hunk' });
      return failure(
        `${hunkLabel(hunk, index, hunks.length)} does not apply to ${path}: its context and removed lines ` +
          `(${wanted.length}) were not found${hunk.loose ? '' : ` at line ${base + 1} or elsewhere`}` +
          `${fuzz > 0 ? ` with up to ${fuzz} differing context lines` : ''}. ${hint}`,
        hunk.line,
      );
    }
    const patched = patchedLines(lines, shape, chosen.start, chosen.steps);
    out.push(...lines.slice(minLine, chosen.start), ...patched.out);
    placements.push({ line: chosen.start + 1, offset: hunk.loose ? 0 : chosen.start - expected, fuzz: chosen.cost });
    minLine = patched.end;
    if (!hunk.loose) offset = chosen.start - base;
  }
  out.push(...lines.slice(minLine));
  return { ok: true, value: { text: out.join('\n'), placements } };
}

/**
 * Applies a single-file patch (diff text, or parsed) to `source`: the patched text, or `false`
 * when it does not apply — jsdiff's contract. A diff text that fails to parse, or that holds more
 * than one file, throws (use {@link applyFilePatch} per file for multi-file patches).
 *
 * @example
 * applyPatch('a\nb\n', '--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n'); // 'a\nc\n'
 */
export function applyPatch(source: string, patch: string | FilePatch | readonly FilePatch[], options: ApplyPatchOptions = {}): string | false {
  let files: readonly FilePatch[];
  if (typeof patch === 'string') {
    const parsed = parseUnifiedDiff(patch);
    if (!parsed.ok) throw new Error(parsed.error.message);
    files = parsed.value;
  } else {
    files = Array.isArray(patch) ? (patch as readonly FilePatch[]) : [patch as FilePatch];
  }
  if (files.length > 1) throw new Error(`applyPatch only works with a single input. Got ${files.length} file patches; apply them one file at a time.`);
  const file = files[0];
  if (file === undefined) return source;
  const applied = applyFilePatch(source, file, options);
  return applied.ok ? applied.value.text : false;
}

// ---------------------------------------------------------------------------------------------
// Writing diffs

type DiffOp = { op: ' ' | '-' | '+'; text: string };

/** Line diff by longest common subsequence, after trimming the common head and tail. */
function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const middle: DiffOp[] = [];
  if (x.length * y.length > 4_000_000) {
    // Too big to align line by line: say it was all replaced (still a correct diff).
    for (const text of x) middle.push({ op: '-', text });
    for (const text of y) middle.push({ op: '+', text });
  } else {
    const width = y.length + 1;
    const table = new Uint32Array((x.length + 1) * width);
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) {
        table[i * width + j] =
          x[i] === y[j] ? (table[(i + 1) * width + j + 1] as number) + 1 : Math.max(table[(i + 1) * width + j] as number, table[i * width + j + 1] as number);
      }
    }
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        middle.push({ op: ' ', text: x[i++] as string });
        j++;
      } else if (i < x.length && (j >= y.length || (table[(i + 1) * width + j] as number) >= (table[i * width + j + 1] as number))) {
        middle.push({ op: '-', text: x[i++] as string });
      } else {
        middle.push({ op: '+', text: y[j++] as string });
      }
    }
  }
  return [
    ...a.slice(0, head).map((text) => ({ op: ' ' as const, text })),
    ...middle,
    ...a.slice(a.length - tail).map((text) => ({ op: ' ' as const, text })),
  ];
}

/**
 * A unified diff from `oldText` to `newText` (empty string when they are equal), with `context`
 * lines around each change and "\ No newline at end of file" where needed. Applying it with
 * {@link applyPatch} gives `newText` back.
 *
 * @example
 * createUnifiedDiff('a.txt', 'a\nb\n', 'a\nc\n'); // '--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n'
 */
export function createUnifiedDiff(path: string, oldText: string, newText: string, context = 3): string {
  if (oldText === newText) return '';
  const toLines = (text: string): string[] => {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  };
  const a = toLines(oldText);
  const b = toLines(newText);
  const oldNoEol = oldText !== '' && !oldText.endsWith('\n');
  const newNoEol = newText !== '' && !newText.endsWith('\n');
  // A last line whose newline changed differs although its text is equal: diff it as a change.
  const ops: DiffOp[] = [];
  let oldSeenSoFar = 0;
  let newSeenSoFar = 0;
  for (const op of diffLines(a, b)) {
    if (op.op !== '+') oldSeenSoFar++;
    if (op.op !== '-') newSeenSoFar++;
    const lastOfOld = oldSeenSoFar === a.length && op.op !== '+';
    const lastOfNew = newSeenSoFar === b.length && op.op !== '-';
    if (op.op === ' ' && oldNoEol !== newNoEol && (lastOfOld || lastOfNew)) ops.push({ op: '-', text: op.text }, { op: '+', text: op.text });
    else ops.push(op);
  }
  const changes = ops.map((op, index) => (op.op === ' ' ? -1 : index)).filter((index) => index >= 0);
  const out: string[] = [`--- ${path}`, `+++ ${path}`];
  let k = 0;
  while (k < changes.length) {
    const first = changes[k] as number;
    let lastChange = first;
    while (k + 1 < changes.length && (changes[k + 1] as number) - lastChange <= 2 * context + 1) lastChange = changes[++k] as number;
    k++;
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length, lastChange + context + 1);
    let oldLine = 0;
    let newLine = 0;
    for (let i = 0; i < from; i++) {
      if ((ops[i] as DiffOp).op !== '+') oldLine++;
      if ((ops[i] as DiffOp).op !== '-') newLine++;
    }
    const slice = ops.slice(from, to);
    const oldCount = slice.filter((op) => op.op !== '+').length;
    const newCount = slice.filter((op) => op.op !== '-').length;
    out.push(`@@ -${oldCount === 0 ? oldLine : oldLine + 1},${oldCount} +${newCount === 0 ? newLine : newLine + 1},${newCount} @@`);
    let oldSeen = oldLine;
    let newSeen = newLine;
    for (const op of slice) {
      out.push(`${op.op}${op.text}`);
      if (op.op !== '+') oldSeen++;
      if (op.op !== '-') newSeen++;
      const lastOld = op.op !== '+' && oldSeen === a.length && oldNoEol;
      const lastNew = op.op !== '-' && newSeen === b.length && newNoEol;
      if ((op.op === '-' && lastOld) || (op.op === '+' && lastNew) || (op.op === ' ' && (lastOld || lastNew))) {
        out.push('\\ No newline at end of file');
      }
    }
  }
  return `${out.join('\n')}\n`;
}
