/**
 * Who may be holding a repository's `index.lock`, read from `/proc` (Linux). A process counts
 * as a holder when
 * - any of its open files (`/proc/<pid>/fd/*`) is the lock or lies inside the repository's git
 *   dir or common dir (git keeps the lock open while it writes the index), or
 * - it is a `git` process (`/proc/<pid>/comm` starts with `git`) whose working directory
 *   (`/proc/<pid>/cwd`) is inside the work tree or the git dirs (git closes the lock while a hook
 *   runs, but stays alive in the repository until it commits or rolls back).
 * A shell or an editor merely sitting in the repository does not count. A process whose `cwd`
 * or `fd` cannot be read is counted as uninspectable, and an uninspectable process makes the
 * lock "maybe held" — but when we are not root, only processes of our own uid (real or
 * effective, from `/proc/<pid>/status`) count: for a non-root user every other user's process
 * is unreadable, and counting them would block removal forever. Such a process could only hold
 * the lock if it can write the repository (a shared, group-writable one); the age floor is the
 * guard there. Processes in another PID namespace (another container on the same volume) are
 * invisible here: the caller's age floor guards that too.
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileIdentity, LockHolder } from '../domain/preflight/preflight-probe.js';

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

/** The file reads a scan makes (the real `fs/promises` unless a test stands in for `/proc`). */
export interface ProcReader {
  readdir(dir: string): Promise<string[]>;
  readFile(file: string, encoding: 'utf8'): Promise<string>;
  readlink(link: string): Promise<string>;
}

/** Options of {@link scanLockHolders}. */
export interface LockScanOptions {
  /** Where `/proc` is. @default '/proc' */
  procRoot?: string;
  /** The uid we run as; 0 (root) counts every uninspectable process. @default process.getuid() */
  ownUid?: number;
  /** @default the real file system */
  reader?: ProcReader;
}

const realReader: ProcReader = { readdir: (dir) => readdir(dir), readFile: (file, encoding) => readFile(file, encoding), readlink: (link) => readlink(link) };

/** The real and effective uids of a process (`Uid:` of `/proc/<pid>/status`), or undefined. */
async function processUids(base: string, reader: ProcReader): Promise<number[] | undefined> {
  try {
    const line = (await reader.readFile(path.join(base, 'status'), 'utf8')).split('\n').find((l) => l.startsWith('Uid:'));
    return line?.slice(4).trim().split(/\s+/).slice(0, 2).map(Number);
  } catch {
    return undefined;
  }
}

/**
 * Whether an uninspectable process may hold the lock: always as root; otherwise only when it
 * runs as our uid (or its uids cannot be read).
 */
async function mayHold(base: string, ownUid: number | undefined, reader: ProcReader): Promise<boolean> {
  if (ownUid === undefined || ownUid === 0) return true;
  const uids = await processUids(base, reader);
  return uids === undefined || uids.includes(ownUid);
}

/** Scans `/proc` (every process but this one) for holders of the lock described by `scope`. */
export async function scanLockHolders(scope: LockScope, options: LockScanOptions = {}): Promise<LockScan> {
  const procRoot = options.procRoot ?? '/proc';
  const reader = options.reader ?? realReader;
  const ownUid = options.ownUid ?? process.getuid?.();
  const holders: LockHolder[] = [];
  let uninspectable = 0;
  const pids = (await reader.readdir(procRoot)).filter((name) => /^\d+$/.test(name)).map(Number);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const base = path.join(procRoot, String(pid));
    let command: string;
    try {
      command = (await reader.readFile(path.join(base, 'comm'), 'utf8')).trim();
    } catch {
      continue; // Gone since the listing.
    }
    const openFile = await holdsOpenFile(base, scope, reader);
    if (openFile === 'denied') {
      if (await mayHold(base, ownUid, reader)) uninspectable += 1;
      continue;
    }
    if (openFile) {
      holders.push({ pid, command, reason: 'open-file' });
      continue;
    }
    if (!command.startsWith('git')) continue;
    try {
      const cwd = await reader.readlink(path.join(base, 'cwd'));
      if (inside(cwd, scope.workTree) || scope.gitDirs.some((dir) => inside(cwd, dir))) holders.push({ pid, command, reason: 'git-cwd' });
    } catch (err) {
      if ((errorCode(err) === 'EACCES' || errorCode(err) === 'EPERM') && (await mayHold(base, ownUid, reader))) uninspectable += 1;
    }
  }
  return { holders, uninspectable };
}

/** True when one of the process's open files is the lock or in a git dir; 'denied' when they cannot be read. */
async function holdsOpenFile(base: string, scope: LockScope, reader: ProcReader): Promise<boolean | 'denied'> {
  let fds: string[];
  try {
    fds = await reader.readdir(path.join(base, 'fd'));
  } catch (err) {
    const code = errorCode(err);
    // A zombie or a process that just ended has no fds to read.
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : false;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = await reader.readlink(path.join(base, 'fd', fd));
    } catch {
      continue;
    }
    if (target === scope.lockPath || scope.gitDirs.some((dir) => inside(target, dir))) return true;
  }
  return false;
}

/** Which file is at `file` (device, inode, modification time), or undefined when none is. */
export async function fileIdentity(file: string): Promise<FileIdentity | undefined> {
  try {
    const info = await stat(file);
    return { dev: info.dev, ino: info.ino, mtimeMs: info.mtimeMs };
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
