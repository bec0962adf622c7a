/**
 * The worktrees of a repository as `git worktree list --porcelain` lists them: each path, and
 * the lock reason of a locked one. Preflight uses it twice: a recorded process is only signalled
 * when it works inside the repository or one of these worktrees, and baseline worktrees a crashed
 * orchestrator left locked are found here (by their lock reason) and removed.
 */
import { safeGitArgs, safeGitEnv } from '@maestro/runtime';
import { execGitWorktreeCommand } from './git-worktree-command.js';

/** One worktree of a repository. */
export interface WorktreeEntry {
  /** Its directory, as git recorded it. */
  path: string;
  /** The lock reason ('' for a lock without one); undefined when it is not locked. */
  locked?: string;
}

/** Parses `git worktree list --porcelain` output (records separated by blank lines). */
export function parseWorktreeList(porcelain: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const line of porcelain.split('\n')) {
    if (line.startsWith('worktree ')) {
      current = { path: line.slice('worktree '.length) };
      entries.push(current);
    } else if (current !== undefined && (line === 'locked' || line.startsWith('locked '))) {
      current.locked = line === 'locked' ? '' : line.slice('locked '.length);
    }
  }
  return entries;
}

/** The worktrees of `repoPath` (the main one first); rejects when git fails. */
export async function listWorktrees(repoPath: string, options: { gitBinary?: string; timeoutMs?: number } = {}): Promise<WorktreeEntry[]> {
  const stdout = await execGitWorktreeCommand(options.gitBinary ?? 'git', safeGitArgs(['-C', repoPath, 'worktree', 'list', '--porcelain']), {
    timeout: options.timeoutMs ?? 10_000,
    env: safeGitEnv(process.env, { readOnly: true }),
  });
  return parseWorktreeList(stdout);
}
