/**
 * `fs.apply_patch`: apply a unified diff to workspace files.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { editWorkspace, type NewContent } from '../edits/edit-workspace.js';
import { EditErrorCodes } from '../edits/edit-format-error.js';
import { applyFilePatch, extractUnifiedDiffs, resolvePatchTargetPath, type HunkPlacement } from '../edits/unified-diff.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/** Whether a workspace-relative path exists; paths that do not resolve inside the workspace do not. */
function existsInWorkspace(workspace: string, path: string): boolean {
  try {
    return existsSync(resolveWorkspacePath(workspace, path).absolute);
  } catch {
    return false;
  }
}

function describePlacements(placements: readonly HunkPlacement[]): string {
  const moved = placements
    .map((placement, index) => ({ ...placement, index }))
    .filter((placement) => placement.offset !== 0 || placement.fuzz > 0)
    .map(
      (placement) =>
        `hunk ${placement.index + 1} applied at line ${placement.line}` +
        (placement.offset !== 0 ? ` (${Math.abs(placement.offset)} line${Math.abs(placement.offset) === 1 ? '' : 's'} ${placement.offset > 0 ? 'below' : 'above'} its header)` : '') +
        (placement.fuzz > 0 ? ` ignoring ${placement.fuzz} differing context line${placement.fuzz === 1 ? '' : 's'}` : ''),
    );
  return moved.length === 0 ? '' : ` [${moved.join('; ')}]`;
}

/**
 * Applies a unified diff (one or many files; `--- /dev/null` creates a file, `+++ /dev/null`
 * deletes one; git's `a/`/`b/` prefixes are dropped unless the workspace has such a directory
 * and the patch has no `diff --git` line) all or nothing: every path is confined to the workspace, the write guard is asked
 * for every file before anything is read or written, and if any hunk does not apply no file is
 * written and the message names the file, the hunk and the closest lines. Hunks may sit at other
 * line numbers than their headers say (they are searched for); with `fuzz` n, up to n context
 * lines may differ, as with `patch --fuzz`.
 */
export const fsApplyPatchTool = defineTool({
  name: 'fs.apply_patch',
  description:
    'Apply a unified diff to files in the workspace: "--- path" / "+++ path" headers, then "@@ -a,b +c,d @@" hunks with context (" "), ' +
    'removed ("-") and added ("+") lines. Several files may be patched at once; "--- /dev/null" creates a file, "+++ /dev/null" deletes one. ' +
    'Either every hunk applies or nothing is changed.',
  risk: 'write',
  input: z
    .object({
      patch: z.string().min(1).describe('the unified diff text (a ```diff fence around it is accepted)'),
      fuzz: z.number().int().min(0).max(3).optional().describe('how many context lines per hunk may differ from the file (default 0)'),
    })
    .strict(),
  async run({ patch, fuzz }, { workspace, writeGuard }) {
    const parsed = extractUnifiedDiffs(patch);
    if (!parsed.ok) return { ok: false, output: parsed.error.message };
    if (parsed.value.length === 0) {
      return { ok: false, output: 'no unified diff found in patch: expected "--- path" and "+++ path" header lines followed by "@@ -a,b +c,d @@" hunks' };
    }
    // Headers without `diff --git` may carry a/ b/ prefixes or name a real a/ or b/ directory: the workspace decides.
    const naming = { exists: (path: string) => existsInWorkspace(workspace, path) };
    const files = parsed.value.map((file, index) => ({ file, index, path: resolvePatchTargetPath(file, naming) }));
    for (const { file, index, path } of files) {
      if (path === undefined) return { ok: false, output: `file ${index + 1} of the patch has no name; start it with "--- path" and "+++ path" lines` };
      if (file.binary) return { ok: false, output: `the patch changes the binary file ${path}; binary patches are not supported` };
    }
    const details = new Map<string, string>();
    const result = await editWorkspace(
      workspace,
      files.map(({ path }) => path as string),
      (current) => {
        const contents = new Map<string, NewContent>();
        for (const { file, path: target } of files) {
          const path = target as string;
          const before = contents.has(path) ? (contents.get(path) ?? undefined) : current.get(path);
          if (file.oldPath === undefined && before !== undefined && before !== '') {
            return { ok: false, error: { code: EditErrorCodes.fileState, path, message: `the patch creates ${path} (--- /dev/null) but it already exists; nothing was changed` } };
          }
          if (file.oldPath !== undefined && before === undefined) {
            return { ok: false, error: { code: EditErrorCodes.fileState, path, message: `${path} does not exist (to create it, use "--- /dev/null"); nothing was changed` } };
          }
          if (file.newPath === undefined) {
            contents.set(path, null);
            continue;
          }
          const applied = applyFilePatch(before ?? '', file, fuzz === undefined ? {} : { fuzzFactor: fuzz }, path);
          if (!applied.ok) {
            return { ok: false, error: { ...applied.error, message: `${applied.error.message}\nNothing was changed.${fuzz === undefined || fuzz === 0 ? ' If only context lines differ, fix them or retry with fuzz: 1.' : ''}` } };
          }
          contents.set(path, applied.value.text);
          details.set(path, `${details.get(path) ?? ''}${describePlacements(applied.value.placements)}`);
        }
        return { ok: true, value: contents };
      },
      writeGuard === undefined ? {} : { writeGuard },
    );
    if (!result.ok) return { ok: false, output: result.error.message };
    // Outcomes come in the order of the distinct paths given, which is how `details` is keyed.
    const given = [...new Set(files.map(({ path }) => path as string))];
    const changed = result.value.filter((file) => file.action !== 'unchanged');
    const lines = result.value.map((file, index) => `${file.action} ${file.path}${details.get(given[index] ?? '') ?? ''}`);
    return { ok: true, output: `applied the patch: ${lines.join(', ')}`, effects: { filesChanged: changed.map((file) => file.path) } };
  },
});
