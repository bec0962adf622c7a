/**
 * Workspace confinement: every path a tool touches is resolved here, and nothing outside the
 * workspace (or, for writes, inside `.git/`) gets through.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '@maestro/runtime';
import { isGitDirName, WorkspacePathErrorCodes } from './protected-paths.js';

/** A path proven to lie inside the workspace. */
export interface WorkspacePath {
  /** Real absolute path (symlinks of existing parts resolved); the form used in lock concerns. */
  absolute: string;
  /** The same path relative to the workspace root (`.` for the root itself). */
  relative: string;
  /** The real absolute path of the workspace root. */
  root: string;
}

/** Options for {@link resolveWorkspacePath}. */
export interface ResolvePathOptions {
  /** The path will be written: also refuse `.git/` and the root itself. @default false */
  write?: boolean;
}

function refuse(input: string, why: string): UserError {
  return new UserError(WorkspacePathErrorCodes.refused, `path ${JSON.stringify(input)} is refused: ${why}`, {
    field: 'path',
    details: { path: input },
  });
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Resolves a workspace-relative path, or throws a `UserError` (`PATH_REFUSED`) saying why.
 * Refused: empty paths, NUL bytes, absolute paths, `..` escapes, and anything whose real
 * location is outside the workspace. Symlinks are resolved before the check (the realpath of
 * the nearest existing ancestor, plus the part that does not exist yet), so a link pointing
 * outside is refused; a dangling link is refused too, since where it would write is unknown.
 * With `write`, the workspace root itself is refused too, and paths inside `.git/` (any depth,
 * any spelling git treats as `.git`, or reached through a link) with `GIT_DIR_WRITE_REFUSED`.
 */
export function resolveWorkspacePath(workspace: string, input: string, options: ResolvePathOptions = {}): WorkspacePath {
  if (input.length === 0) throw refuse(input, 'it is empty; give a path relative to the workspace root');
  if (input.includes('\0')) throw refuse(input, 'it contains a NUL byte');
  if (isAbsolute(input)) throw refuse(input, 'absolute paths are not allowed; give a path relative to the workspace root');

  const root = realpathSync(workspace);
  const lexical = resolve(root, input);
  if (!isInside(root, lexical)) throw refuse(input, 'it leads outside the workspace');

  // Walk up to the nearest part that exists, resolve its symlinks, then re-append the rest.
  let existing = lexical;
  const missing: string[] = [];
  for (;;) {
    try {
      lstatSync(existing);
      break;
    } catch {
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  let real: string;
  try {
    real = realpathSync(existing);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(input, code === 'ELOOP' ? 'it goes through a symbolic link loop' : 'it goes through a symbolic link whose target does not exist');
  }
  const absolute = missing.length === 0 ? real : join(real, ...missing);
  if (!isInside(root, absolute)) throw refuse(input, 'it resolves (through a symbolic link) to a place outside the workspace');

  const rel = relative(root, absolute);
  if (options.write) {
    if (rel === '') throw refuse(input, 'it is the workspace root, not a file');
    // Lexically too: `sub/.git` may not exist yet, and a link may lead into a `.git` elsewhere in the workspace.
    if (rel.split(sep).some(isGitDirName) || relative(root, lexical).split(sep).some(isGitDirName)) {
      throw new UserError(
        WorkspacePathErrorCodes.gitDirWrite,
        `path ${JSON.stringify(input)} is refused (${WorkspacePathErrorCodes.gitDirWrite}): writing inside .git/ is not allowed (a hook or config there would run code on every commit); use the git tools`,
        { field: 'path', details: { path: input } },
      );
    }
  }
  return { absolute, relative: rel === '' ? '.' : rel, root };
}
