/**
 * What a sandbox must show of the repository around a worktree besides the worktree itself:
 *
 * - **The git directory, read-only.** A linked worktree's `.git` is a file naming
 *   `<repo>/.git/worktrees/<name>`, whose objects and refs live in the repository's common dir;
 *   binding that common dir read-only lets `git status` and `git diff` work inside while the
 *   command cannot commit, move refs or plant hooks and config that our own (unsandboxed) git
 *   commands would run. The worktree's own `.git` (file or directory) is re-bound read-only over
 *   the writable worktree for the same reason.
 * - **Linked dependencies, read-only.** The executor links untracked paths such as
 *   `node_modules` from the repository's checkout into each worktree (`worktreeLinks`); a symlink
 *   `<worktree>/<path>` whose real target is exactly `<checkout>/<path>` gets that target bound
 *   read-only. Any other symlink pointing outside the worktree is left dangling: a command could
 *   make one (`ln -s /root/.ssh keys`) to have the next command see what it points at.
 *
 * The checkout's working tree is otherwise not visible.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Directory levels below the worktree searched for links (`packages/*\/node_modules` is two). */
const LINK_SEARCH_DEPTH = 3;
/** Directory entries looked at, at most, while searching. */
const LINK_SEARCH_ENTRIES = 20_000;
/** Directories never descended into: git's, and installed dependencies (large, and links inside them point within). */
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

/** The read-only views a worktree needs. */
export interface WorktreeMounts {
  /** Host paths bound read-only at the same place, before the worktree is bound. */
  readOnly: string[];
  /** Paths inside the worktree re-bound read-only over it, after it is bound. */
  protectedInside: string[];
}

/** True when `child` is `parent` or below it (both absolute, resolved). */
export function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The mounts for `worktree` (absolute, real path). Never throws: what cannot be read is left out. */
export function worktreeMounts(worktree: string): WorktreeMounts {
  const dotGit = join(worktree, '.git');
  const kind = entryKind(dotGit);
  if (kind === undefined) return { readOnly: [], protectedInside: [] };
  if (kind !== 'file') return { readOnly: [], protectedInside: [dotGit] };
  const gitDir = linkedGitDir(dotGit);
  const commonDir = gitDir === undefined ? undefined : commonDirOf(gitDir);
  const readOnly = [commonDir, gitDir && commonDir && isWithin(gitDir, commonDir) ? undefined : gitDir].filter(
    (path): path is string => path !== undefined && !isWithin(path, worktree),
  );
  const checkout = commonDir !== undefined && basename(commonDir) === '.git' ? dirname(commonDir) : undefined;
  if (checkout !== undefined && !isWithin(worktree, checkout)) readOnly.push(...linkedTargets(worktree, checkout));
  return { readOnly: dropNested(readOnly), protectedInside: [dotGit] };
}

function entryKind(path: string): 'file' | 'dir' | 'other' | undefined {
  try {
    const info = lstatSync(path);
    return info.isFile() ? 'file' : info.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

/** The real path of the git dir a `.git` file names (`gitdir: …`), or undefined. */
function linkedGitDir(dotGitFile: string): string | undefined {
  try {
    const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGitFile, 'utf8'));
    return match?.[1] === undefined ? undefined : realpathSync(resolve(dirname(dotGitFile), match[1]));
  } catch {
    return undefined;
  }
}

/** The real path of a git dir's common dir (`commondir` file, else the git dir itself). */
function commonDirOf(gitDir: string): string | undefined {
  try {
    const text = readFileSync(join(gitDir, 'commondir'), 'utf8').trim();
    return realpathSync(resolve(gitDir, text));
  } catch {
    return gitDir;
  }
}

/**
 * The real targets of symlinks `<worktree>/<path>` (up to three levels down) whose target is
 * exactly `<checkout>/<path>`: the executor's worktree links, nothing a command could point anywhere.
 */
function linkedTargets(worktree: string, checkout: string): string[] {
  const found: string[] = [];
  let budget = LINK_SEARCH_ENTRIES;
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (--budget < 0) return;
      const path = join(dir, name);
      const kind = linkOrDir(path);
      if (kind === 'link') {
        const target = realTarget(path);
        const expected = join(checkout, relative(worktree, path));
        if (target !== undefined && target === expected && !isWithin(target, join(checkout, '.git'))) found.push(target);
      } else if (kind === 'dir' && depth < LINK_SEARCH_DEPTH && !SKIPPED_DIRS.has(name)) {
        visit(path, depth + 1);
      }
    }
  };
  visit(worktree, 1);
  return found;
}

function linkOrDir(path: string): 'link' | 'dir' | undefined {
  try {
    const info = lstatSync(path);
    return info.isSymbolicLink() ? 'link' : info.isDirectory() ? 'dir' : undefined;
  } catch {
    return undefined;
  }
}

function realTarget(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The paths without duplicates and without those inside another of them. */
function dropNested(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)].sort();
  return unique.filter((path) => !unique.some((other) => other !== path && path.startsWith(other.endsWith(sep) ? other : other + sep)));
}
