/**
 * Read-only questions about a subtask's worktree: is its work committed, and which files did
 * the subtask change. Paths are relative to the agent's workspace, like the agent's own.
 */
import { runGit } from './git-cli.js';

/** Whether the worktree's work is all committed. */
export interface CommitState {
  head: string | undefined;
  /** Entries of `git status --porcelain` (uncommitted, unmerged or untracked files). */
  uncommitted: string[];
  /** A merge was started and not committed (`MERGE_HEAD` exists). */
  mergeInProgress: boolean;
}

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** The worktree's HEAD, what is left uncommitted, and whether a merge is unfinished. */
export async function commitStateOf(workspace: string): Promise<CommitState> {
  const [head, status, merge] = await Promise.all([
    runGit(workspace, ['rev-parse', '--verify', '-q', 'HEAD']),
    runGit(workspace, ['status', '--porcelain=v1', '--untracked-files=all', '--', '.']),
    runGit(workspace, ['rev-parse', '-q', '--verify', 'MERGE_HEAD']),
  ]);
  return {
    head: head.code === 0 ? head.stdout.trim() : undefined,
    uncommitted: status.code === 0 ? lines(status.stdout) : ['(git status failed)'],
    mergeInProgress: merge.code === 0,
  };
}

/** Why the subtask's work is not (all) committed since `start`, or undefined when it is. */
export function uncommittedReason(state: CommitState, start: string): string | undefined {
  if (state.mergeInProgress) return 'the merge with the task branch was left unfinished (conflicts resolved but not committed with git.commit)';
  if (state.uncommitted.length > 0) {
    const shown = state.uncommitted.slice(0, 20).join(', ');
    return `files left uncommitted: ${shown}${state.uncommitted.length > 20 ? ` and ${state.uncommitted.length - 20} more` : ''}`;
  }
  if (state.head === undefined || state.head === start) return 'no commit: the work was never committed (git.commit failed or was not called)';
  return undefined;
}

/** Files that differ between two commits, workspace-relative. */
export async function filesBetween(workspace: string, from: string, to: string): Promise<string[]> {
  const diff = await runGit(workspace, ['diff', '--name-only', '--relative', from, to]);
  return diff.code === 0 ? lines(diff.stdout).sort() : [];
}

/** Files changed in the worktree since `base`, committed or not, untracked ones included; workspace-relative. */
export async function filesChangedSince(workspace: string, base: string): Promise<string[]> {
  const [tracked, untracked] = await Promise.all([
    runGit(workspace, ['diff', '--name-only', '--relative', base]),
    runGit(workspace, ['ls-files', '--others', '--exclude-standard']),
  ]);
  const files = new Set([...(tracked.code === 0 ? lines(tracked.stdout) : []), ...(untracked.code === 0 ? lines(untracked.stdout) : [])]);
  return [...files].sort();
}
