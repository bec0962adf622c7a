/**
 * The top of the worktree a directory belongs to: what a sandbox binds writable when a caller
 * works in a subdirectory of a repository (a monorepo package).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest of `dir` and its ancestors holding a `.git` (file or directory); `dir` itself when none does. */
export function worktreeTopOf(dir: string): string {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, '.git'))) return current;
    if (dirname(current) === current) return dir;
  }
}
