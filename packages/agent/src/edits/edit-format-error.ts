/**
 * What the edit parsers and editors say when a model's reply or edit cannot be used: a stable
 * code for programs, a message written for the model that made the mistake.
 */

/** Why a reply's edits could not be parsed or applied; stable names programs can branch on. */
export const EditErrorCodes = {
  /** A SEARCH/REPLACE block has no `=======` divider. */
  missingDivider: 'missing-divider',
  /** A SEARCH/REPLACE block has no `>>>>>>> REPLACE` marker. */
  missingReplaceMarker: 'missing-replace-marker',
  /** An edit block does not say which file it edits. */
  missingFilename: 'missing-filename',
  /** A fenced block is opened and never closed. */
  unclosedFence: 'unclosed-fence',
  /** A unified diff is malformed (header, hunk header, hunk body). */
  malformedDiff: 'malformed-diff',
  /** The reply contains no edit in any known format. */
  noEdits: 'no-edits',
  /** A SEARCH text (or `old_str`) does not occur in the file. */
  noMatch: 'no-match',
  /** An `old_str` occurs more than once, so the edit is ambiguous. */
  ambiguousMatch: 'ambiguous-match',
  /** A diff hunk does not apply to the file. */
  hunkFailed: 'hunk-failed',
  /** The edit names a file that does not exist (or exists where it must not). */
  fileState: 'file-state',
  /** The edit is well-formed but pointless or contradictory (e.g. old text equals new text). */
  invalidEdit: 'invalid-edit',
  /** A command lacks a parameter it needs (e.g. `str_replace` without `old_str`). */
  missingParameter: 'missing-parameter',
  /** A parameter has a value that cannot work (a refused path, a line out of range, an unknown command). */
  invalidParameter: 'invalid-parameter',
  /** `undo_edit` on a file the editor has not changed. */
  noHistory: 'no-history',
  /** The write guard refused (a lock is held elsewhere) or writing failed; nothing was changed. */
  writeFailed: 'write-failed',
} as const;
/** One of {@link EditErrorCodes}. */
export type EditErrorCode = (typeof EditErrorCodes)[keyof typeof EditErrorCodes];

/** A parse or apply failure, with the message the model gets back. */
export interface EditError {
  code: EditErrorCode;
  /** Written for the model: which block/file/line, what was expected, what to do. */
  message: string;
  /** 1-based number of the block (in reply order) the error is about, when there is one. */
  block?: number;
  /** 1-based line in the reply (parsers) or in the file (editors) the error points at. */
  line?: number;
  /** Workspace-relative path the error is about, when known. */
  path?: string;
}

/** The outcome of a parser or editor: the value, or an {@link EditError}; never a throw. */
export type EditResult<T> = { ok: true; value: T } | { ok: false; error: EditError };
