/**
 * `fs.edit`: replace one exact piece of text in a workspace file.
 */
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { editWorkspace } from '../edits/edit-workspace.js';
import { EditErrorCodes } from '../edits/edit-format-error.js';
import { strReplace } from '../edits/str-replace.js';

/**
 * Exact replace: `old_str` must occur in the file exactly once and is replaced by `new_str`.
 * No match, several matches, or `old_str` equal to `new_str` leave the file alone and tell the
 * model what to fix (the closest lines, or the line numbers of every occurrence). The
 * parameter names are those of the widely used `str_replace_editor` protocol, so models trained
 * on it need no new habits. Takes the `file:<abs path>` concern through the write guard first.
 */
export const fsEditTool = defineTool({
  name: 'fs.edit',
  description:
    'Edit a file by exact replacement: old_str must appear in the file exactly once (include enough surrounding lines to make it unique, ' +
    'with the exact whitespace and indentation), and is replaced by new_str. Use fs.write to create a file or rewrite it whole.',
  risk: 'write',
  input: z
    .object({
      path: z.string().min(1).describe('file path relative to the workspace root'),
      old_str: z.string().min(1).describe('the exact text to replace; must occur exactly once in the file'),
      new_str: z.string().describe('the text to put in its place (empty to delete old_str)'),
    })
    .strict(),
  async run({ path, old_str, new_str }, { workspace, writeGuard }) {
    let report = '';
    const result = await editWorkspace(
      workspace,
      [path],
      (current) => {
        const content = current.get(path);
        if (content === undefined) {
          return { ok: false, error: { code: EditErrorCodes.fileState, path, message: `${path} does not exist; use fs.write to create it` } };
        }
        const replaced = strReplace(content, old_str, new_str, path);
        if (!replaced.ok) return replaced;
        const { startLine, endLine, snippet } = replaced.value;
        report = `edited ${path}: the replacement is now line${startLine === endLine ? ` ${startLine}` : `s ${startLine}-${endLine}`}\n${snippet}`;
        return { ok: true, value: new Map([[path, replaced.value.text]]) };
      },
      writeGuard === undefined ? {} : { writeGuard },
    );
    if (!result.ok) return { ok: false, output: result.error.message };
    return { ok: true, output: report, effects: { filesChanged: result.value.filter((file) => file.action !== 'unchanged').map((file) => file.path) } };
  },
});
