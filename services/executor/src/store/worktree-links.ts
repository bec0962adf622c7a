/**
 * Links what git does not track from the repository's checkout into a fresh subtask worktree
 * (installed dependencies above all: a worktree holds only tracked files, so a test command
 * that needs `node_modules` would fail there). A link is a symlink to the checkout's own
 * directory, so the worktree reads the dependencies the user installed; nothing is copied or
 * installed.
 *
 * Safety rules: a path git tracks (in the checkout or on the task branch) is never linked; a
 * path already present in the worktree is left alone; and a link is never committed: git
 * ignores a symlink only through a pattern without a trailing slash (`node_modules/` in a
 * `.gitignore` matches directories, not a symlink), so when the link is not ignored its path is
 * added to the repository's `info/exclude` (shared by its worktrees; the user's tracked files
 * are never changed). Removing the worktree removes the symlink, never what it points to.
 */
import { lstat, mkdir, readdir, readFile, appendFile, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toMaestroError, type Logger } from '@maestro/runtime';
import { gitOk, runGit } from './git-cli.js';

/** What {@link linkUntrackedPaths} needs. */
export interface WorktreeLinkRequest {
  /** The repository's top directory (its main checkout, where the linked paths live). */
  repoRoot: string;
  /** The fresh worktree's top directory. */
  worktree: string;
  /** Repository-relative paths, validated by `parseWorktreeLinks` (a `*` segment matches any directory). */
  links: readonly string[];
}

/** Marks the lines the executor adds to `info/exclude`. */
const EXCLUDE_HEADER = '# maestro executor: dependency links in subtask worktrees (never committed)';

/** Creates the links; returns the repository-relative paths linked. Failures are logged per path, never thrown. */
export async function linkUntrackedPaths(request: WorktreeLinkRequest, log: Logger): Promise<string[]> {
  const linked: string[] = [];
  for (const pattern of request.links) {
    for (const path of await expand(request.repoRoot, pattern)) {
      try {
        if (await linkOne(request, path, log)) linked.push(path);
      } catch (err) {
        log.warn('worktree link not created', { path, err: toMaestroError(err) });
      }
    }
  }
  if (linked.length > 0) log.info('untracked paths linked into the worktree', { worktree: request.worktree, linked });
  return linked;
}

/** Links one path; false when it is absent, tracked, or already in the worktree. */
async function linkOne(request: WorktreeLinkRequest, path: string, log: Logger): Promise<boolean> {
  const source = join(request.repoRoot, path);
  const target = join(request.worktree, path);
  if (!(await exists(source))) return false;
  if ((await isTracked(request.repoRoot, path)) || (await isTracked(request.worktree, path))) {
    log.debug('tracked path not linked', { path });
    return false;
  }
  if (await exists(target)) return false;
  // Only where the worktree has the parent (a nested path whose package is not on the task branch is skipped).
  if (!(await exists(dirname(target)))) return false;
  await symlink(source, target);
  if (!(await isIgnored(request.worktree, path))) {
    await excludeInRepository(request.worktree, path);
    if (!(await isIgnored(request.worktree, path))) {
      await unlink(target);
      log.warn('worktree link removed: git would not ignore it', { path });
      return false;
    }
  }
  return true;
}

/** The existing paths a pattern names in the checkout (a `*` segment: every directory there but `.git`). */
async function expand(repoRoot: string, pattern: string): Promise<string[]> {
  let paths = [''];
  for (const segment of pattern.split('/')) {
    if (segment !== '*') {
      paths = paths.map((p) => (p === '' ? segment : `${p}/${segment}`));
      continue;
    }
    const next: string[] = [];
    for (const p of paths) {
      const entries = await readdir(join(repoRoot, p), { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory() && e.name !== '.git') next.push(p === '' ? e.name : `${p}/${e.name}`);
    }
    paths = next.sort();
  }
  return paths;
}

/** Whether git tracks the path, or anything under it, in the checkout at `cwd`. */
async function isTracked(cwd: string, path: string): Promise<boolean> {
  const files = await runGit(cwd, ['ls-files', '-z', '--', path]);
  return files.code === 0 && files.stdout.length > 0;
}

/** Whether git ignores the path (as it is now: a symlink) in the worktree. */
async function isIgnored(worktree: string, path: string): Promise<boolean> {
  return (await runGit(worktree, ['check-ignore', '-q', '--', path])).code === 0;
}

/** Adds `/<path>` (no trailing slash: it must match a symlink) to the repository's `info/exclude`, once. */
async function excludeInRepository(worktree: string, path: string): Promise<void> {
  const file = await gitOk(worktree, ['rev-parse', '--path-format=absolute', '--git-path', 'info/exclude']);
  const line = `/${path}`;
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current.split('\n').includes(line)) return;
  await mkdir(dirname(file), { recursive: true });
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  const header = current.includes(EXCLUDE_HEADER) ? '' : `${EXCLUDE_HEADER}\n`;
  await appendFile(file, `${separator}${header}${line}\n`);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
