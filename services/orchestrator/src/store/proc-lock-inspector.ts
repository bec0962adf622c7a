/**
 * Who may be holding a repository's `index.lock`, read from `/proc` (Linux). A process counts
 * as a holder when
 * - any of its open files (`/proc/<pid>/fd/*`) is the lock or lies inside the repository's git
 *   dir or common dir (git keeps the lock open while it writes the index), or
 * - it is a `git` process (`/proc/<pid>/comm` starts with `git`) whose working directory
 *   (`/proc/<pid>/cwd`) is inside the work tree or the git dirs (git closes the lock while a hook
 *   runs, but stays alive in the repository until it commits or rolls back).
 * A shell or an editor merely sitting in the repository does not count. Processes whose `cwd`
 * and `fd` cannot be read (another user's, without permission) are counted as uninspectable,
 * and an uninspectable process makes the lock "maybe held". Processes in another PID namespace
 * (another container on the same volume) are invisible here: the caller's age floor guards that.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LockHolder } from '../domain/preflight/preflight-probe.js';

function inside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Where to look, as real paths. */
export interface LockScope {
  lockPath: string;
  workTree: string;
  gitDirs: readonly string[];
}

/** The holders found and how many processes could not be inspected. */
export interface LockScan {
  holders: LockHolder[];
  uninspectable: number;
}

/** Scans `/proc` (every process but this one) for holders of the lock described by `scope`. */
export async function scanLockHolders(scope: LockScope, procRoot = '/proc'): Promise<LockScan> {
  const holders: LockHolder[] = [];
  let uninspectable = 0;
  const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name)).map(Number);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const base = path.join(procRoot, String(pid));
    let command: string;
    try {
      command = (await readFile(path.join(base, 'comm'), 'utf8')).trim();
    } catch {
      continue; // Gone since the listing.
    }
    const openFile = await holdsOpenFile(base, scope);
    if (openFile === 'denied') {
      uninspectable += 1;
      continue;
    }
    if (openFile) {
      holders.push({ pid, command, reason: 'open-file' });
      continue;
    }
    if (!command.startsWith('git')) continue;
    try {
      const cwd = await readlink(path.join(base, 'cwd'));
      if (inside(cwd, scope.workTree) || scope.gitDirs.some((dir) => inside(cwd, dir))) holders.push({ pid, command, reason: 'git-cwd' });
    } catch (err) {
      if (errorCode(err) === 'EACCES' || errorCode(err) === 'EPERM') uninspectable += 1;
    }
  }
  return { holders, uninspectable };
}

/** True when one of the process's open files is the lock or in a git dir; 'denied' when they cannot be read. */
async function holdsOpenFile(base: string, scope: LockScope): Promise<boolean | 'denied'> {
  let fds: string[];
  try {
    fds = await readdir(path.join(base, 'fd'));
  } catch (err) {
    const code = errorCode(err);
    // A zombie or a process that just ended has no fds to read.
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : false;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = await readlink(path.join(base, 'fd', fd));
    } catch {
      continue;
    }
    if (target === scope.lockPath || scope.gitDirs.some((dir) => inside(target, dir))) return true;
  }
  return false;
}

/** Milliseconds since the file was last modified, by `now`. */
export async function fileAgeMs(file: string, now: number): Promise<number | undefined> {
  try {
    return Math.max(0, now - (await stat(file)).mtimeMs);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
