/**
 * `fs.write`: create or replace a workspace file.
 */
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { reconfirmWorkspacePath, writeConfinedFile } from '../confined-write.js';
import { defineTool } from '../tool-registry.js';
import { Concerns } from '../write-guard.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/**
 * Writes a whole file (creating parent directories). Takes the `file:<abs path>` concern
 * through the write guard first; refuses paths outside the workspace and inside `.git/`, and
 * paths that a symbolic link redirected while the guard was waiting.
 */
export const fsWriteTool = defineTool({
  name: 'fs.write',
  description:
    'Create or overwrite a file in the workspace with the given content (the whole file). Parent directories are created.',
  risk: 'write',
  input: z
    .object({
      path: z.string().min(1).describe('file path relative to the workspace root'),
      content: z.string().describe('the complete new content of the file'),
    })
    .strict(),
  async run({ path, content }, { workspace, writeGuard }) {
    const target = resolveWorkspacePath(workspace, path, { write: true });
    const before = await stat(target.absolute).catch(() => undefined);
    if (before?.isDirectory()) return { ok: false, output: `${target.relative} is a directory; give a file path` };
    await writeGuard?.acquire([Concerns.file(target.absolute)]);
    // The guard may have waited for a lock; check again what the path means now, then write without following links.
    await writeConfinedFile(reconfirmWorkspacePath(workspace, path, target), path, content);
    return {
      ok: true,
      output: `${before === undefined ? 'created' : 'replaced'} ${target.relative} (${Buffer.byteLength(content)} bytes)`,
      effects: { filesChanged: [target.relative] },
    };
  },
});
