/**
 * Reading a workspace file without following a symbolic link that appeared after the path was
 * checked: between `resolveWorkspacePath` and the read a command the agent started can replace
 * the file (or a directory on its way) with a link to a file outside. The file is opened with
 * `O_NOFOLLOW` (a link at the file itself fails the open), and the opened descriptor's real path,
 * read back from `/proc/self/fd` where Linux shows it, must still be the checked one (a link at a
 * parent directory leads elsewhere). Only then are its bytes read, from that descriptor.
 */
import { constants } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { UserError } from '@maestro/runtime';
import { WorkspacePathErrorCodes } from './protected-paths.js';
import type { WorkspacePath } from './workspace-path.js';

function changed(input: string, why: string): UserError {
  return new UserError(WorkspacePathErrorCodes.changed, `path ${JSON.stringify(input)} is refused: ${why}; nothing was read`, { field: 'path', details: { path: input } });
}

/** The bytes of a confined file (see the module doc), or a `PATH_CHANGED` refusal when it became a link or moved outside. */
export async function readConfinedFile(target: WorkspacePath, input: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(target.absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw changed(input, 'it became a symbolic link after it was checked');
    throw err;
  }
  try {
    const real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (real !== undefined && real !== target.absolute) {
      throw changed(input, 'a directory on its way became a symbolic link after it was checked');
    }
    const info = await handle.stat();
    if (!info.isFile()) throw changed(input, 'it is no longer a regular file');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
