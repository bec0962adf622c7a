/**
 * Exact-replace editing, the `str_replace_editor` way: `old_str` must occur in the file exactly
 * once, and is replaced by `new_str`; no match and several matches are errors that tell the model
 * what to fix. {@link strReplace} is the rule on text; {@link createTextEditor} is the whole
 * editor (`view`, `create`, `str_replace`, `insert`, `undo_edit`) over workspace files.
 * Messages follow the OpenHands editor's wording where its cases check it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { closestLines } from './closest-lines.js';
import { editWorkspace } from './edit-workspace.js';
import { EditErrorCodes, type EditErrorCode, type EditResult } from './edit-format-error.js';
import { resolveWorkspacePath } from '../workspace-path.js';
import type { WriteGuard } from '../write-guard.js';

/** A successful replacement. */
export interface StrReplaceResult {
  text: string;
  /** 1-based first and last line of the new text in the file. */
  startLine: number;
  endLine: number;
  /** The edited region with a few lines around it, numbered like `cat -n`. */
  snippet: string;
}

const SNIPPET_CONTEXT = 4;
const shown = (text: string): string => (text.length > 300 ? `${text.slice(0, 297)}...` : text);
const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Numbered lines `from`..`to` (1-based, inclusive), `cat -n` style. */
export function numberedLines(text: string, from = 1, to = Number.POSITIVE_INFINITY): string {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const last = Math.min(to, lines.length);
  const out: string[] = [];
  for (let n = Math.max(1, from); n <= last; n++) out.push(`${String(n).padStart(6)}\t${lines[n - 1] ?? ''}`);
  return out.join('\n');
}

/** Start offsets of the non-overlapping occurrences of `needle` (every offset for the empty string). */
function occurrences(haystack: string, needle: string): number[] {
  if (needle === '') return Array.from({ length: haystack.length + 1 }, (_, i) => i);
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) found.push(at);
  return found;
}

/**
 * Replaces the single occurrence of `oldStr` in `content` with `newStr`. Refuses when the two
 * are equal, when `oldStr` does not occur (naming the closest lines), and when it occurs more
 * than once (listing the lines, so the model can add context to make it unique).
 *
 * @example
 * strReplace('a = 1\nb = 2\n', 'b = 2', 'b = 3', 'x.py'); // { ok: true, value: { text: 'a = 1\nb = 3\n', startLine: 2, endLine: 2, … } }
 */
export function strReplace(content: string, oldStr: string, newStr: string, path: string): EditResult<StrReplaceResult> {
  if (oldStr === newStr) {
    return { ok: false, error: { code: EditErrorCodes.invalidEdit, path, message: 'No replacement was performed. `new_str` and `old_str` must be different.' } };
  }
  const found = occurrences(content, oldStr);
  if (found.length === 0) {
    const hint = closestLines(content.split('\n'), oldStr.split('\n'), { label: 'old_str' });
    return {
      ok: false,
      error: {
        code: EditErrorCodes.noMatch,
        path,
        message: `No replacement was performed, old_str \`${shown(oldStr)}\` did not appear verbatim in ${path}.${hint === '' ? '' : ` ${hint}`}`,
      },
    };
  }
  if (found.length > 1) {
    const lines = [...new Set(found.map((at) => lineOf(content, at)))];
    const list = lines.length > 50 ? `${lines.slice(0, 50).join(', ')}, ...` : lines.join(', ');
    return {
      ok: false,
      error: {
        code: EditErrorCodes.ambiguousMatch,
        path,
        line: lines[0] as number,
        message: `No replacement was performed. Multiple occurrences of old_str \`${shown(oldStr)}\` in lines [${list}]. Please ensure it is unique.`,
      },
    };
  }
  const at = found[0] as number;
  const text = content.slice(0, at) + newStr + content.slice(at + oldStr.length);
  const startLine = lineOf(content, at);
  const endLine = startLine + Math.max(0, newStr.split('\n').length - 1);
  return {
    ok: true,
    value: { text, startLine, endLine, snippet: numberedLines(text, startLine - SNIPPET_CONTEXT, endLine + SNIPPET_CONTEXT) },
  };
}

/** A command for the editor, as a model sends it (parameter names of the `str_replace_editor` protocol). */
export type TextEditorCommand =
  | { command: 'view'; path: string; view_range?: [number, number] }
  | { command: 'create'; path: string; file_text: string }
  | { command: 'str_replace'; path: string; old_str: string; new_str?: string }
  | { command: 'insert'; path: string; insert_line: number; new_str: string }
  | { command: 'undo_edit'; path: string };

/** What a command returns: text for the model, and the files it changed. */
export interface TextEditorResult {
  ok: boolean;
  output: string;
  /** Why it failed (one of the edit error codes), when it did. */
  code?: EditErrorCode;
  /** Workspace-relative paths written. */
  filesChanged?: string[];
}

/** The editor: runs commands against one workspace, remembering earlier contents for `undo_edit`. */
export interface TextEditor {
  /** Runs one command (validated here: a model's arguments are not trusted); never throws. */
  run(command: unknown): Promise<TextEditorResult>;
}

/** Options for {@link createTextEditor}. */
export interface TextEditorOptions {
  /** Absolute path of the workspace; every path is confined to it (`resolveWorkspacePath`). */
  workspace: string;
  /** Asked for `file:<abs>` before each write. */
  writeGuard?: WriteGuard;
}

const REQUIRED: Record<TextEditorCommand['command'], string[]> = {
  view: ['path'],
  create: ['path', 'file_text'],
  str_replace: ['path', 'old_str'],
  insert: ['path', 'insert_line', 'new_str'],
  undo_edit: ['path'],
};

const fail = (code: EditErrorCode, output: string): TextEditorResult => ({ ok: false, code, output });

function validate(input: unknown): TextEditorCommand | TextEditorResult {
  if (typeof input !== 'object' || input === null) return fail(EditErrorCodes.invalidParameter, 'The command must be an object with a `command` field.');
  const record = input as Record<string, unknown>;
  const command = record.command;
  if (typeof command !== 'string' || !(command in REQUIRED)) {
    return fail(EditErrorCodes.invalidParameter, `Unrecognized command ${JSON.stringify(command)}. The allowed commands are: ${Object.keys(REQUIRED).join(', ')}.`);
  }
  for (const name of REQUIRED[command as TextEditorCommand['command']]) {
    if (record[name] === undefined || record[name] === null) {
      return fail(EditErrorCodes.missingParameter, `Parameter \`${name}\` is required for command: ${command}.`);
    }
  }
  for (const name of ['path', 'file_text', 'old_str', 'new_str'] as const) {
    if (record[name] !== undefined && typeof record[name] !== 'string') return fail(EditErrorCodes.invalidParameter, `Parameter \`${name}\` must be a string.`);
  }
  if (record.insert_line !== undefined && !Number.isInteger(record.insert_line)) {
    return fail(EditErrorCodes.invalidParameter, 'Parameter `insert_line` must be an integer.');
  }
  const range = record.view_range;
  if (range !== undefined && !(Array.isArray(range) && range.length === 2 && range.every((n) => Number.isInteger(n)))) {
    return fail(EditErrorCodes.invalidParameter, 'Parameter `view_range` must be a list of two integers, [start, end] (end -1 for the end of the file).');
  }
  return record as unknown as TextEditorCommand;
}

/**
 * Creates an editor over a workspace. Paths are workspace-relative (absolute paths and escapes
 * are refused, as everywhere in the agent); `create` refuses existing files; each change can be
 * undone, most recent first, with `undo_edit`.
 *
 * @example
 * const editor = createTextEditor({ workspace: '/repos/demo' });
 * await editor.run({ command: 'str_replace', path: 'app.py', old_str: 'x = 1', new_str: 'x = 2' });
 */
export function createTextEditor(options: TextEditorOptions): TextEditor {
  const history = new Map<string, (string | undefined)[]>();

  /** Reads, computes and writes one file; an undoable change records what was there before. */
  async function change(
    path: string,
    compute: (current: string | undefined) => EditResult<{ text: string | null; output: string; undoable: boolean }>,
  ): Promise<TextEditorResult> {
    let output = '';
    let before: string | undefined;
    let undoable = false;
    const result = await editWorkspace(
      options.workspace,
      [path],
      (current) => {
        before = current.get(path);
        const next = compute(before);
        if (!next.ok) return next;
        output = next.value.output;
        undoable = next.value.undoable;
        return { ok: true, value: new Map([[path, next.value.text]]) };
      },
      options.writeGuard === undefined ? {} : { writeGuard: options.writeGuard },
    );
    if (!result.ok) return fail(result.error.code, result.error.message);
    if (undoable) {
      const stack = history.get(path) ?? [];
      stack.push(before);
      history.set(path, stack);
    }
    return { ok: true, output, filesChanged: result.value.filter((o) => o.action !== 'unchanged').map((o) => o.path) };
  }

  async function view(path: string, range: [number, number] | undefined): Promise<TextEditorResult> {
    let target;
    try {
      target = resolveWorkspacePath(options.workspace, path);
    } catch (err) {
      return fail(EditErrorCodes.invalidParameter, (err as Error).message);
    }
    const info = await stat(target.absolute).catch(() => undefined);
    if (info === undefined) return fail(EditErrorCodes.fileState, `The path ${path} does not exist. Please provide a valid path.`);
    if (info.isDirectory()) {
      if (range !== undefined) return fail(EditErrorCodes.invalidParameter, 'The `view_range` parameter is not allowed when `path` points to a directory.');
      const entries = await readdir(target.absolute, { withFileTypes: true });
      const names = entries.filter((e) => !e.name.startsWith('.')).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
      return { ok: true, output: `Files and directories in ${target.relative}:\n${names.join('\n')}` };
    }
    const bytes = await readFile(target.absolute);
    if (bytes.includes(0)) return fail(EditErrorCodes.fileState, `${path} is a binary file; it cannot be shown as text.`);
    const content = bytes.toString('utf8');
    const total = content === '' ? 0 : content.split('\n').length - (content.endsWith('\n') ? 1 : 0);
    if (range === undefined) return { ok: true, output: numberedLines(content) };
    const [from, to] = range;
    if (from < 1 || from > Math.max(total, 1)) return fail(EditErrorCodes.invalidParameter, `Invalid \`view_range\` parameter: [${from}, ${to}]. Its first element should be within the range of lines of the file: [1, ${total}].`);
    if (to !== -1 && (to < from || to > total)) return fail(EditErrorCodes.invalidParameter, `Invalid \`view_range\` parameter: [${from}, ${to}]. Its second element should be -1 or within [${from}, ${total}].`);
    return { ok: true, output: numberedLines(content, from, to === -1 ? total : to) };
  }

  return {
    async run(input) {
      const command = validate(input);
      if ('ok' in command) return command;
      switch (command.command) {
        case 'view':
          return view(command.path, command.view_range);
        case 'create':
          return change(command.path, (before) => {
            if (before !== undefined) {
              return { ok: false, error: { code: EditErrorCodes.fileState, message: `File already exists at: ${command.path}. Cannot overwrite files using command \`create\`.` } };
            }
            return { ok: true, value: { text: command.file_text, output: `File created successfully at: ${command.path}`, undoable: true } };
          });
        case 'str_replace':
          return change(command.path, (before) => {
            if (before === undefined) return { ok: false, error: { code: EditErrorCodes.fileState, message: `The path ${command.path} does not exist. Please provide a valid path.` } };
            const replaced = strReplace(before, command.old_str, command.new_str ?? '', command.path);
            if (!replaced.ok) return replaced;
            return {
              ok: true,
              value: {
                undoable: true,
                text: replaced.value.text,
                output: `The file ${command.path} has been edited. Here's the result of running \`cat -n\` on a snippet of ${command.path}:\n${replaced.value.snippet}\nReview the changes and make sure they are as expected.`,
              },
            };
          });
        case 'insert':
          return change(command.path, (before) => {
            if (before === undefined) return { ok: false, error: { code: EditErrorCodes.fileState, message: `The path ${command.path} does not exist. Please provide a valid path.` } };
            const lines = before.split('\n');
            const total = before === '' ? 0 : lines.length - (before.endsWith('\n') ? 1 : 0);
            if (command.insert_line < 0 || command.insert_line > total) {
              return {
                ok: false,
                error: {
                  code: EditErrorCodes.invalidParameter,
                  message: `Invalid \`insert_line\` parameter: ${command.insert_line}. It should be within the range of lines of the file: [0, ${total}]`,
                },
              };
            }
            const added = command.new_str.replace(/\n$/, '').split('\n');
            lines.splice(command.insert_line, 0, ...added);
            const text = lines.join('\n');
            const first = command.insert_line + 1;
            return {
              ok: true,
              value: {
                undoable: true,
                text,
                output: `The file ${command.path} has been edited. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${numberedLines(text, first - SNIPPET_CONTEXT, first + added.length - 1 + SNIPPET_CONTEXT)}\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc).`,
              },
            };
          });
        case 'undo_edit': {
          const stack = history.get(command.path) ?? [];
          if (stack.length === 0) return fail(EditErrorCodes.noHistory, `No edit history found for ${command.path}.`);
          const previous = stack[stack.length - 1];
          const result = await change(command.path, () => ({
            ok: true,
            value: { undoable: false, text: previous ?? null, output: previous === undefined ? `Undid the creation of ${command.path} (file removed).` : `Last edit to ${command.path} undone successfully.\n${numberedLines(previous)}` },
          }));
          if (result.ok) stack.pop();
          return result;
        }
      }
    },
  };
}
