/**
 * `fs.read`: a file of the workspace, whole or a line range.
 */
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { readConfinedFile } from '../confined-read.js';
import { defineTool } from '../tool-registry.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/** Characters of file text shown at most; the model reads longer files by line range. */
const MAX_READ_CHARS = 50_000;

/** Reads a workspace file (optionally lines `startLine`..`endLine`, 1-based, inclusive). */
export const fsReadTool = defineTool({
  name: 'fs.read',
  description:
    'Read a text file of the workspace. Optionally give startLine and endLine (1-based, inclusive) to read part of a long file.',
  risk: 'read',
  input: z
    .object({
      path: z.string().min(1).describe('file path relative to the workspace root'),
      startLine: z.number().int().min(1).optional().describe('first line to return (1-based)'),
      endLine: z.number().int().min(1).optional().describe('last line to return (inclusive)'),
    })
    .strict(),
  async run({ path, startLine, endLine }, { workspace }) {
    // A rule between two arguments, which JSON Schema (and so the registry's validation) cannot say.
    if (startLine !== undefined && endLine !== undefined && endLine < startLine) {
      return { ok: false, output: `invalid arguments for fs.read: endLine: must not be before startLine (${startLine}), got ${endLine}` };
    }
    const target = resolveWorkspacePath(workspace, path);
    const info = await stat(target.absolute).catch(() => undefined);
    if (info === undefined) return { ok: false, output: `${target.relative} does not exist` };
    if (!info.isFile()) return { ok: false, output: `${target.relative} is not a file${info.isDirectory() ? ' (it is a directory; use fs.list)' : ''}` };
    // Opened without following a link that appeared since the check (see confined-read.ts).
    const bytes = await readConfinedFile(target, path);
    if (bytes.subarray(0, 8192).includes(0)) {
      return { ok: false, output: `${target.relative} is a binary file (${bytes.length} bytes); not shown` };
    }
    let text = bytes.toString('utf8');
    if (startLine !== undefined || endLine !== undefined) {
      const lines = text.split('\n');
      const first = startLine ?? 1;
      if (first > lines.length) return { ok: false, output: `${target.relative} has only ${lines.length} lines` };
      text = lines.slice(first - 1, endLine ?? lines.length).join('\n');
    }
    if (text.length > MAX_READ_CHARS) {
      const total = text.length;
      text = `${text.slice(0, MAX_READ_CHARS)}\n[... truncated: showing ${MAX_READ_CHARS} of ${total} characters; read the rest with startLine/endLine]`;
    }
    return { ok: true, output: text };
  },
});
