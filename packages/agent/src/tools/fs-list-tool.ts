/**
 * `fs.list`: the entries of a workspace directory.
 */
import { readdir } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/** Entries listed at most, so a huge tree cannot flood the conversation. */
const MAX_ENTRIES = 2_000;

/**
 * Lists a workspace directory (workspace-relative paths, directories ending in `/`),
 * optionally recursively. `.git` is skipped and symlinked directories are not followed.
 */
export const fsListTool = defineTool({
  name: 'fs.list',
  description:
    'List the files in a workspace directory (default: the root). Paths are relative to the workspace root; directories end with "/". Set recursive to list the whole tree below it.',
  risk: 'read',
  input: z
    .object({
      path: z.string().min(1).default('.').describe('directory relative to the workspace root'),
      recursive: z.boolean().default(false),
    })
    .strict(),
  async run({ path, recursive }, { workspace }) {
    const target = resolveWorkspacePath(workspace, path);
    const lines: string[] = [];
    let truncated = false;
    const toRelative = (abs: string): string => {
      const rel = abs === target.root ? '' : abs.slice(target.root.length + 1);
      return rel.split(sep).join(posix.sep);
    };
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (entry.name === '.git') continue;
        if (lines.length >= MAX_ENTRIES) {
          truncated = true;
          return;
        }
        const abs = join(dir, entry.name);
        const isDir = entry.isDirectory();
        lines.push(isDir ? `${toRelative(abs)}/` : toRelative(abs));
        if (isDir && recursive) await walk(abs);
      }
    };
    try {
      await walk(target.absolute);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, output: `${target.relative} does not exist` };
      if (code === 'ENOTDIR') return { ok: false, output: `${target.relative} is not a directory (use fs.read)` };
      throw err;
    }
    if (lines.length === 0) return { ok: true, output: `${target.relative} is empty` };
    if (truncated) lines.push(`[... stopped after ${MAX_ENTRIES} entries; list a subdirectory]`);
    return { ok: true, output: lines.join('\n') };
  },
});
