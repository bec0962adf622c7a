/**
 * Changing several workspace files as one step: every path confined to the workspace, the write
 * guard asked for all of them before anything is read or written, new contents computed from the
 * current ones, and either every file written or none (a failed write puts back what was there).
 */
import { stat } from 'node:fs/promises';
import { readConfinedFile } from '../confined-read.js';
import { reconfirmWorkspacePath, removeConfinedFile, writeConfinedFile } from '../confined-write.js';
import { EditErrorCodes, type EditResult } from './edit-format-error.js';
import { resolveWorkspacePath, type WorkspacePath } from '../workspace-path.js';
import { Concerns, type WriteGuard } from '../write-guard.js';

/** A file's new content; `null` deletes it, `undefined` leaves it alone. */
export type NewContent = string | null | undefined;

/** What happened to one file. */
export interface FileOutcome {
  /** Workspace-relative path (as resolved: symlinks followed, normalised). */
  path: string;
  action: 'created' | 'modified' | 'deleted' | 'unchanged';
}

/** Options for {@link editWorkspace}. */
export interface EditWorkspaceOptions {
  /** Asked once, with every file's `file:<abs>` concern, before anything is read or written. */
  writeGuard?: WriteGuard;
  /** Compute and report, but write nothing. @default false */
  dryRun?: boolean;
}

function failure(message: string, code: (typeof EditErrorCodes)[keyof typeof EditErrorCodes] = EditErrorCodes.writeFailed, path?: string) {
  return { ok: false as const, error: { code, message, ...(path === undefined ? {} : { path }) } };
}

async function readCurrent(target: WorkspacePath): Promise<EditResult<string | undefined>> {
  const info = await stat(target.absolute).catch(() => undefined);
  if (info === undefined) return { ok: true, value: undefined };
  if (!info.isFile()) return failure(`${target.relative} is not a regular file`, EditErrorCodes.fileState, target.relative);
  const bytes = await readConfinedFile(target, target.relative);
  if (bytes.includes(0)) return failure(`${target.relative} is a binary file; it cannot be edited as text`, EditErrorCodes.fileState, target.relative);
  return { ok: true, value: bytes.toString('utf8') };
}

/**
 * Runs one all-or-nothing change over `paths` (workspace-relative, as the model wrote them).
 * `compute` receives the current contents (undefined for files that do not exist), keyed by the
 * given paths, and returns each file's new content or an error; on an error nothing is written.
 * A path outside the workspace or inside `.git/`, a guard that refuses, or a failed write also
 * leave every file as it was.
 *
 * @example
 * await editWorkspace(ws, ['a.txt'], (current) => ({ ok: true, value: new Map([['a.txt', (current.get('a.txt') ?? '') + 'more\n']]) }));
 */
export async function editWorkspace(
  workspace: string,
  paths: readonly string[],
  compute: (current: ReadonlyMap<string, string | undefined>) => EditResult<ReadonlyMap<string, NewContent>>,
  options: EditWorkspaceOptions = {},
): Promise<EditResult<FileOutcome[]>> {
  const unique = [...new Set(paths)];
  const targets = new Map<string, WorkspacePath>();
  for (const path of unique) {
    try {
      targets.set(path, resolveWorkspacePath(workspace, path, { write: true }));
    } catch (err) {
      return failure(`nothing was changed: ${(err as Error).message}`, EditErrorCodes.invalidParameter, path);
    }
  }
  const byFile = new Map<string, string>();
  for (const [path, target] of targets) {
    const other = byFile.get(target.absolute);
    if (other !== undefined) {
      return failure(`nothing was changed: "${other}" and "${path}" are the same file; name it one way`, EditErrorCodes.invalidParameter, path);
    }
    byFile.set(target.absolute, path);
  }
  if (!options.dryRun && options.writeGuard !== undefined) {
    const concerns = [...new Set([...targets.values()].map((target) => Concerns.file(target.absolute)))];
    try {
      await options.writeGuard.acquire(concerns);
    } catch (err) {
      return failure(`nothing was changed: the write guard refused (${err instanceof Error ? err.message : String(err)})`);
    }
    // The guard may have waited for locks: a symbolic link planted meanwhile must not redirect the edit.
    for (const [path, target] of targets) {
      try {
        targets.set(path, reconfirmWorkspacePath(workspace, path, target));
      } catch (err) {
        return failure(`nothing was changed: ${(err as Error).message}`, EditErrorCodes.invalidParameter, path);
      }
    }
  }
  const current = new Map<string, string | undefined>();
  for (const [path, target] of targets) {
    const read = await readCurrent(target);
    if (!read.ok) return read;
    current.set(path, read.value);
  }
  const computed = compute(current);
  if (!computed.ok) return computed;

  const outcomes: FileOutcome[] = [];
  const writes: { target: WorkspacePath; before: string | undefined; after: string | null }[] = [];
  for (const [path, target] of targets) {
    const before = current.get(path);
    const after = computed.value.get(path);
    if (after === undefined || after === before || (after === null && before === undefined)) {
      outcomes.push({ path: target.relative, action: 'unchanged' });
      continue;
    }
    outcomes.push({ path: target.relative, action: after === null ? 'deleted' : before === undefined ? 'created' : 'modified' });
    writes.push({ target, before, after });
  }
  if (options.dryRun) return { ok: true, value: outcomes };

  const done: typeof writes = [];
  try {
    for (const write of writes) {
      if (write.after === null) await removeConfinedFile(write.target, write.target.relative);
      else await writeConfinedFile(write.target, write.target.relative, write.after);
      done.push(write);
    }
  } catch (err) {
    // Put back what was already written, so the workspace is as it was before the call.
    for (const write of done.reverse()) {
      if (write.before === undefined) await removeConfinedFile(write.target, write.target.relative).catch(() => undefined);
      else await writeConfinedFile(write.target, write.target.relative, write.before).catch(() => undefined);
    }
    return failure(`nothing was changed: writing failed (${(err as Error).message})`);
  }
  return { ok: true, value: outcomes };
}
