/**
 * The paths linked from a repository's checkout into each subtask worktree
 * (`MAESTRO_EXECUTOR_WORKTREE_LINKS`): what a fresh worktree lacks because git does not track
 * it, above all installed dependencies (`node_modules`). Pure validation; the linking itself is
 * `store/worktree-links.ts`.
 */
import { posix } from 'node:path';

/** The value that links nothing (an empty variable means the default). */
export const NO_WORKTREE_LINKS = 'none';

/**
 * Validates and normalizes repository-relative link paths: relative, inside the repository,
 * never `.git` or under it; a segment may be `*` (any directory there, e.g.
 * `packages/*\/node_modules`). `['none']` is the empty list. Throws naming the bad entry.
 *
 * @example
 * parseWorktreeLinks(['node_modules', './packages/*\/node_modules/']); // ['node_modules', 'packages/*\/node_modules']
 */
export function parseWorktreeLinks(entries: readonly string[]): string[] {
  if (entries.length === 1 && entries[0] === NO_WORKTREE_LINKS) return [];
  const out: string[] = [];
  for (const entry of entries) {
    const link = parseWorktreeLink(entry);
    if (!out.includes(link)) out.push(link);
  }
  return out;
}

/** One link path, normalized (`./a/b/` → `a/b`); throws when it is absolute, escapes the repository or names `.git`. */
export function parseWorktreeLink(entry: string): string {
  const trimmed = entry.trim();
  if (trimmed === '') throw new Error('a worktree link path must not be empty');
  if (posix.isAbsolute(trimmed) || /^[A-Za-z]:[\\/]/.test(trimmed)) {
    throw new Error(`worktree link "${entry}" must be relative to the repository, not absolute`);
  }
  const normalized = posix.normalize(trimmed).replace(/\/+$/, '');
  const segments = normalized.split('/');
  if (normalized === '.' || segments.includes('..')) throw new Error(`worktree link "${entry}" must name a path inside the repository`);
  if (segments.includes('.git')) throw new Error(`worktree link "${entry}" must not name .git`);
  if (segments.some((s) => s.includes('*') && s !== '*')) throw new Error(`worktree link "${entry}": "*" must be a whole path segment`);
  if (segments[segments.length - 1] === '*') throw new Error(`worktree link "${entry}" must not end in "*"`);
  return normalized;
}
