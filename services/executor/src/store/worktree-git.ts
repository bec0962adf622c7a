/**
 * The executor's git worktree commands (`worktree add|list|remove`), run again while another
 * process's `git worktree add` in the same repository is half-way through writing its metadata
 * (see `retryWhileWorktreeMetadataHalfWritten` in `@maestro/runtime`). Metadata that stays
 * unreadable (a git killed while writing it) ends in an error that says how to clear it.
 */
import { retryWhileWorktreeMetadataHalfWritten, UnexpectedError, unreadableWorktreeMetadata, type WorktreeRaceRetry } from '@maestro/runtime';
import { gitFailed, runGit, type GitResult } from './git-cli.js';

/** Error codes of worktree commands. */
export const WorktreeGitErrors = {
  /** A worktree's metadata stayed unreadable past the retries (a git process died writing it). */
  metadataUnreadable: 'WORKTREE_METADATA_UNREADABLE',
} as const;

/** Runs `git <args>` (a worktree command) in `cwd`, again while the metadata is half-written; never throws. */
export function runWorktreeGit(cwd: string, args: readonly string[], retry: WorktreeRaceRetry): Promise<GitResult> {
  return retryWhileWorktreeMetadataHalfWritten(() => runGit(cwd, args), (result) => (result.code === 0 ? undefined : result.stderr), retry);
}

/**
 * {@link runWorktreeGit} that returns the trimmed stdout and throws when git fails: with
 * `WORKTREE_METADATA_UNREADABLE` (naming the directory and the fix) when the metadata never
 * became readable, `GIT_FAILED` otherwise.
 */
export async function worktreeGitOk(cwd: string, args: readonly string[], retry: WorktreeRaceRetry): Promise<string> {
  const result = await runWorktreeGit(cwd, args, retry);
  if (result.code === 0) return result.stdout.trim();
  const unreadable = unreadableWorktreeMetadata(result.stderr);
  if (unreadable === undefined) throw gitFailed(cwd, args, result);
  throw new UnexpectedError(
    WorktreeGitErrors.metadataUnreadable,
    `git ${args.join(' ')} failed in ${cwd}: the worktree metadata ${unreadable} stayed unreadable (a git process that died while adding that worktree leaves it so); \`git worktree prune\` in the repository removes it. git said: ${result.stderr.trim()}`,
    { details: { cwd, args, metadata: unreadable } },
  );
}
