/**
 * From a model's reply text to file changes, for models that edit in text rather than through
 * tool calls: find the edits (SEARCH/REPLACE blocks, unified diffs, or whole files in named
 * fences), then apply them to the workspace all at once or not at all.
 */
import { applySearchReplace } from './apply-edit.js';
import { editWorkspace, type FileOutcome, type NewContent } from './edit-workspace.js';
import { EditErrorCodes, type EditError, type EditResult } from './edit-format-error.js';
import { hasSearchReplaceMarkers, parseSearchReplaceBlocks, type SearchReplaceEdit, type ShellBlock } from './search-replace-parser.js';
import { applyFilePatch, extractUnifiedDiffs, resolvePatchTargetPath, type ApplyPatchOptions, type FilePatch, type PatchPathOptions } from './unified-diff.js';
import { hasNamedFencedBlock, parseWholeFileBlocks, type WholeFileEdit } from './whole-file-parser.js';
import type { WriteGuard } from '../write-guard.js';

/** One file's changes from a unified diff in the reply. */
export interface PatchEdit {
  kind: 'patch';
  /** Workspace-relative target (git `a/`/`b/` prefixes removed). */
  path: string;
  patch: FilePatch;
}

/** An edit found in a reply. */
export type ReplyEdit = SearchReplaceEdit | WholeFileEdit | PatchEdit;

/** The edit formats a reply can use. */
export const ReplyFormats = {
  searchReplace: 'search-replace',
  unifiedDiff: 'unified-diff',
  wholeFile: 'whole-file',
  /** The reply contains no edits. */
  none: 'none',
} as const;
/** One of {@link ReplyFormats}. */
export type ReplyFormat = (typeof ReplyFormats)[keyof typeof ReplyFormats];

/** The edits of a reply, in reply order. */
export interface ExtractedEdits {
  format: ReplyFormat;
  edits: ReplyEdit[];
  /** Shell blocks found beside SEARCH/REPLACE blocks (never run by the parser). */
  shell: ShellBlock[];
}

/** Options for {@link extractEdits}. */
export interface ExtractEditsOptions {
  /** Files the model was shown (workspace-relative), for resolving sloppy names. @default [] */
  knownPaths?: readonly string[];
  /**
   * The format the model was asked to use. Given, only that parser runs and a reply without
   * edits in it is an error; left out, the formats are tried in order of how unambiguous they
   * are: SEARCH/REPLACE markers, then diff headers, then named fences.
   */
  format?: Exclude<ReplyFormat, 'none'>;
  /**
   * The formats to look for when no single `format` is required; the others are not parsed, so
   * their blocks count as prose (a reply without edits in these formats is not an error). The
   * agent loop leaves whole files out by default: a code block after a sentence naming a file
   * would otherwise replace that file. @default all three
   */
  formats?: readonly Exclude<ReplyFormat, 'none'>[];
  /**
   * Whether a workspace-relative path exists (file or directory), for diff headers without
   * `diff --git` whose `a/`/`b/` may be a real directory (see `resolvePatchTargetPath`). @default
   * derived from `knownPaths` (a directory exists when a known file lies inside it)
   */
  exists?: (path: string) => boolean;
  /**
   * Whole-file blocks: let a named path whose directory does not exist, or a mention in the
   * prose, stand for the one known file with the same basename (Aider's behaviour for models
   * that invent directories). The agent loop turns it off: there a wrong guess overwrites a
   * file. @default true
   */
  matchBasenames?: boolean;
}

const NOTHING_APPLIED = 'No edits from this reply were applied; send the corrected edits again.';

function forModel(error: EditError): { ok: false; error: EditError } {
  return { ok: false, error: { ...error, message: `Could not read the edits in your reply: ${error.message} ${NOTHING_APPLIED}` } };
}

function patchEdits(files: readonly FilePatch[], naming: PatchPathOptions): EditResult<PatchEdit[]> {
  const edits: PatchEdit[] = [];
  for (const [index, patch] of files.entries()) {
    const path = resolvePatchTargetPath(patch, naming);
    const where = `file ${index + 1} of the diff${patch.line ? ` (diff line ${patch.line})` : ''}`;
    if (path === undefined) {
      return { ok: false, error: { code: EditErrorCodes.missingFilename, message: `${where} has no file name; start each file with "--- path" and "+++ path" lines.` } };
    }
    if (patch.binary) {
      return { ok: false, error: { code: EditErrorCodes.malformedDiff, path, message: `${where} changes the binary file ${path}; binary patches cannot be applied, write text files only.` } };
    }
    edits.push({ kind: 'patch', path, patch });
  }
  return { ok: true, value: edits };
}

/**
 * Finds the edits in a model's reply. A reply without edits is not an error (unless a `format`
 * was required); a reply whose edits are malformed is, with a message that says which block or
 * line is wrong and what the format expects, ready to send back to the model.
 *
 * @example
 * const found = extractEdits(reply, { knownPaths: ['src/app.py'] });
 * if (!found.ok) messages.push({ role: 'user', content: found.error.message });
 * else if (found.value.edits.length > 0) await applyReplyEdits(workspace, found.value.edits, { writeGuard });
 */
export function extractEdits(reply: string, options: ExtractEditsOptions = {}): EditResult<ExtractedEdits> {
  const knownPaths = options.knownPaths ?? [];
  const wants = (format: Exclude<ReplyFormat, 'none'>): boolean =>
    options.format !== undefined ? options.format === format : options.formats === undefined || options.formats.includes(format);
  const exists = options.exists ?? ((path: string): boolean => knownPaths.some((known) => known === path || known.startsWith(`${path}/`)));
  const matchBasenames = options.matchBasenames ?? true;

  if (wants(ReplyFormats.searchReplace) && (options.format !== undefined || hasSearchReplaceMarkers(reply))) {
    const parsed = parseSearchReplaceBlocks(reply, { validPaths: knownPaths });
    if (!parsed.ok) return forModel(parsed.error);
    const edits = parsed.value.filter((block): block is SearchReplaceEdit => block.kind === 'search-replace');
    const shell = parsed.value.filter((block): block is ShellBlock => block.kind === 'shell');
    if (edits.length > 0 || options.format === undefined) return { ok: true, value: { format: ReplyFormats.searchReplace, edits, shell } };
  }
  if (wants(ReplyFormats.unifiedDiff)) {
    const diffs = extractUnifiedDiffs(reply);
    if (!diffs.ok) return forModel(diffs.error);
    if (diffs.value.length > 0) {
      const edits = patchEdits(diffs.value, { exists });
      if (!edits.ok) return forModel(edits.error);
      return { ok: true, value: { format: ReplyFormats.unifiedDiff, edits: edits.value, shell: [] } };
    }
  }
  if (wants(ReplyFormats.wholeFile) && (options.format !== undefined || hasNamedFencedBlock(reply, knownPaths))) {
    const parsed = parseWholeFileBlocks(reply, { knownPaths, matchBasenames });
    if (!parsed.ok) return forModel(parsed.error);
    if (parsed.value.length > 0) return { ok: true, value: { format: ReplyFormats.wholeFile, edits: parsed.value, shell: [] } };
  }
  if (options.format !== undefined) {
    const expected = {
      'search-replace': 'SEARCH/REPLACE blocks: the file path on its own line, then <<<<<<< SEARCH, the exact lines to change, =======, the new lines, >>>>>>> REPLACE',
      'unified-diff': 'a unified diff in a ```diff fence: "--- path" and "+++ path" lines, then @@ hunks',
      'whole-file': 'the complete new content of each file in a fenced block, with the file path alone on the line before the fence',
    }[options.format];
    return forModel({ code: EditErrorCodes.noEdits, message: `the reply contains no edits. Use ${expected}.` });
  }
  return { ok: true, value: { format: ReplyFormats.none, edits: [], shell: [] } };
}

/** Options for {@link applyReplyEdits}. */
export interface ApplyReplyEditsOptions {
  /** Asked for every file's concern before anything is read or written. */
  writeGuard?: WriteGuard;
  /** Work out the result without writing. @default false */
  dryRun?: boolean;
  /** How unified-diff hunks are matched. @default { fuzzFactor: 0 } */
  patch?: ApplyPatchOptions;
  /** Let edits create files that do not exist yet; off, such an edit fails the reply. @default true */
  createFiles?: boolean;
}

/** What applying a reply's edits did. */
export interface AppliedReplyEdits {
  files: FileOutcome[];
  /** Things the model should know (e.g. a SEARCH that occurred several times). */
  notes: string[];
  /** A one-paragraph report for the model. */
  summary: string;
}

function applyOne(content: string | undefined, edit: ReplyEdit, block: number, options: ApplyReplyEditsOptions): EditResult<{ text: NewContent; notes: string[] }> {
  switch (edit.kind) {
    case 'search-replace': {
      const applied = applySearchReplace(content, edit, { block });
      return applied.ok ? { ok: true, value: { text: applied.value.text, notes: applied.value.notes } } : applied;
    }
    case 'whole-file':
      if (edit.partial) {
        return { ok: false, error: { code: EditErrorCodes.unclosedFence, path: edit.path, message: `the block for ${edit.path} (line ${edit.line}) is not closed, so the file would be cut short.` } };
      }
      return { ok: true, value: { text: edit.content, notes: [] } };
    case 'patch': {
      const { patch, path } = edit;
      if (patch.oldPath === undefined && content !== undefined && content !== '') {
        return { ok: false, error: { code: EditErrorCodes.fileState, path, message: `the diff creates ${path} (--- /dev/null), but it already exists; diff against its current content instead.` } };
      }
      if (patch.newPath === undefined) return { ok: true, value: { text: null, notes: [] } };
      if (content === undefined && patch.oldPath !== undefined) {
        return { ok: false, error: { code: EditErrorCodes.fileState, path, message: `the diff changes ${path}, which does not exist; to create it, use "--- /dev/null".` } };
      }
      const applied = applyFilePatch(content ?? '', patch, options.patch ?? {}, path);
      return applied.ok ? { ok: true, value: { text: applied.value.text, notes: [] } } : applied;
    }
  }
}

/**
 * Applies a reply's edits to the workspace, in order, all or nothing: if any edit fails, no
 * file is written and the error says which edit, which file and (for a SEARCH that does not
 * match) which lines came closest.
 */
export async function applyReplyEdits(workspace: string, edits: readonly ReplyEdit[], options: ApplyReplyEditsOptions = {}): Promise<EditResult<AppliedReplyEdits>> {
  const notes: string[] = [];
  const result = await editWorkspace(
    workspace,
    edits.map((edit) => edit.path),
    (current) => {
      const contents = new Map<string, NewContent>();
      for (const [index, edit] of edits.entries()) {
        const before = contents.has(edit.path) ? contents.get(edit.path) : current.get(edit.path);
        if (options.createFiles === false && (before ?? undefined) === undefined) {
          return {
            ok: false,
            error: {
              code: EditErrorCodes.fileState,
              path: edit.path,
              block: index + 1,
              message: `edit ${index + 1} would create ${edit.path}, which does not exist; creating files is not allowed here, edit existing files only. ${NOTHING_APPLIED}`,
            },
          };
        }
        const applied = applyOne(before ?? undefined, edit, index + 1, options);
        if (!applied.ok) {
          const label = edit.kind === 'search-replace' ? '' : `edit ${index + 1} (${edit.path}): `;
          return { ok: false, error: { ...applied.error, block: index + 1, message: `${label}${applied.error.message} ${NOTHING_APPLIED}` } };
        }
        contents.set(edit.path, applied.value.text);
        notes.push(...applied.value.notes);
      }
      return { ok: true, value: contents };
    },
    { ...(options.writeGuard === undefined ? {} : { writeGuard: options.writeGuard }), ...(options.dryRun ? { dryRun: true } : {}) },
  );
  if (!result.ok) return result;
  const changed = result.value.filter((file) => file.action !== 'unchanged');
  const summary =
    `${options.dryRun ? 'Would apply' : 'Applied'} ${edits.length} edit${edits.length === 1 ? '' : 's'}: ` +
    (changed.length === 0 ? 'no file changed' : changed.map((file) => `${file.action} ${file.path}`).join(', ')) +
    (notes.length > 0 ? `. Note: ${notes.join('; ')}` : '') +
    '.';
  return { ok: true, value: { files: result.value, notes, summary } };
}
