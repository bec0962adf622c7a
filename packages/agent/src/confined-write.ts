/**
 * Writing and deleting workspace files without following a symbolic link that appeared after the
 * path was checked. Between `resolveWorkspacePath` and the write there is the write guard, which
 * may wait for a lock for many seconds; a command the agent started can plant a link in that
 * time. So the path is resolved again after the guard, parent directories are created one level
 * at a time refusing links, and content goes to a temporary file in the verified parent that is
 * then renamed over the target (`rename` replaces a link at the destination instead of writing
 * through it).
 *
 * This narrows the window to the few system calls between the last check and the rename; it does
 * not close it (Node has no `openat`/`O_NOFOLLOW` walk). It protects against mistakes and slow
 * races, not against a hostile process of the same uid, which could write outside the workspace
 * directly anyway (`exec` is not a sandbox).
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { UserError } from '@maestro/runtime';
import { WorkspacePathErrorCodes } from './protected-paths.js';
import { resolveWorkspacePath, type WorkspacePath } from './workspace-path.js';

function changed(input: string, why: string): UserError {
  return new UserError(WorkspacePathErrorCodes.changed, `path ${JSON.stringify(input)} is refused: ${why}; nothing was written`, { field: 'path', details: { path: input } });
}

/**
 * Resolves `input` again after the write guard returned and checks it still means `checked`: a
 * link planted at the path or one of its parents in the meantime makes it resolve elsewhere (or
 * outside the workspace), and the write is refused rather than sent there.
 */
export function reconfirmWorkspacePath(workspace: string, input: string, checked: WorkspacePath): WorkspacePath {
  let again: WorkspacePath;
  try {
    again = resolveWorkspacePath(workspace, input, { write: true });
  } catch (err) {
    throw changed(input, `it changed while waiting for the write guard (${err instanceof Error ? err.message : String(err)})`);
  }
  if (again.absolute !== checked.absolute) {
    throw changed(input, `it changed while waiting for the write guard: it now leads to ${again.relative} instead of ${checked.relative} (a symbolic link appeared)`);
  }
  return again;
}

/**
 * Walks from the workspace root to the target's parent one directory at a time, refusing
 * symbolic links and non-directories, and creates missing directories when `create` is set.
 * Returns the parent's absolute path, built only from components just checked, or undefined
 * when a directory is missing and `create` is not set.
 */
async function verifiedParent(target: WorkspacePath, input: string, create: boolean): Promise<string | undefined> {
  const parts = target.relative.split(sep).slice(0, -1);
  let dir = target.root;
  for (const part of parts) {
    dir = join(dir, part);
    let info = await lstat(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (info === undefined) {
      if (!create) return undefined;
      await mkdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
      info = await lstat(dir);
    }
    if (info.isSymbolicLink()) throw changed(input, `${JSON.stringify(part)} on its way became a symbolic link`);
    if (!info.isDirectory()) throw changed(input, `${JSON.stringify(part)} on its way is not a directory`);
  }
  return dir;
}

/**
 * Writes `content` to a confined path (already reconfirmed after the write guard): parents are
 * created without following links, the content goes to a temporary file next to the target
 * (created exclusively, so a planted link there is not followed either), and the temporary file
 * is renamed over the target. A file being replaced keeps its permission bits (scripts stay
 * executable).
 */
export async function writeConfinedFile(target: WorkspacePath, input: string, content: string): Promise<void> {
  // With `create`, a missing directory is made, never reported as missing.
  const parent = (await verifiedParent(target, input, true)) as string;
  const destination = join(parent, basename(target.absolute));
  const existing = await lstat(destination).catch(() => undefined);
  if (existing?.isDirectory()) throw changed(input, 'it is a directory now');
  const mode = existing?.isFile() ? existing.mode & 0o7777 : 0o666;
  const temp = join(parent, `.${basename(target.absolute)}.maestro-${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, content, { encoding: 'utf8', flag: 'wx', mode });
  try {
    // The umask applied at creation; a replaced file gets exactly its old bits back.
    if (existing?.isFile()) await chmod(temp, mode);
    // Checked once more right before the rename: the temporary file's parent must still be the real one.
    if ((await verifiedParent(target, input, false)) !== parent) throw changed(input, 'its directory disappeared while writing');
    await rename(temp, destination);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Deletes a confined file (already reconfirmed after the write guard) without going through a linked parent; a missing file is fine. */
export async function removeConfinedFile(target: WorkspacePath, input: string): Promise<void> {
  const parent = await verifiedParent(target, input, false);
  // No parent, no file: nothing to delete. A linked parent was refused above.
  if (parent === undefined) return;
  await unlink(join(parent, basename(target.absolute))).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
}
