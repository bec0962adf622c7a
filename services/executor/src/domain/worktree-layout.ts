/**
 * Where a subtask attempt's git worktree lives, which branch a task works on, and the names of
 * the refs the executor keeps in a repository. Pure naming, so it is tested without git.
 *
 * Layout: `<worktreeRoot>/<executor>/<task>--<subtask>--a<attempt>`; every segment is made
 * safe for a file name and a ref name by {@link toSafeSegment}.
 */
import { join } from 'node:path';
import type { SubtaskWork } from '@maestro/contracts';

const SAFE = /[A-Za-z0-9-]/;

/**
 * Encodes any text as one path segment and one ref-name component, injectively: letters, digits
 * and `-` stay readable, anything else (including `_`, `.`, `/`, `:`) becomes `_xx` per UTF-8 byte.
 *
 * @example
 * toSafeSegment('sub-1:2'); // 'sub-1_3a2'
 */
export function toSafeSegment(text: string): string {
  if (text.length === 0) throw new Error('toSafeSegment: text must not be empty');
  let out = '';
  for (const ch of text) {
    if (SAFE.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The directory holding every worktree of one executor (its orphans are found here at start). */
export function executorWorktreeDir(worktreeRoot: string, executorId: string): string {
  return join(worktreeRoot, toSafeSegment(executorId));
}

/** The worktree directory of one subtask attempt on one executor. */
export function worktreePathOf(
  worktreeRoot: string,
  executorId: string,
  work: Pick<SubtaskWork, 'taskId' | 'subtaskId' | 'attempt'>,
): string {
  const name = `${toSafeSegment(work.taskId)}--${toSafeSegment(work.subtaskId)}--a${work.attempt}`;
  return join(executorWorktreeDir(worktreeRoot, executorId), name);
}

/** The branch a task works on: `work.taskBranch`, or `maestro/<taskId>`. Never the user's branch. */
export function taskBranchOf(work: Pick<SubtaskWork, 'taskId' | 'taskBranch'>): string {
  return work.taskBranch ?? `maestro/${work.taskId}`;
}

/** The refs the executor keeps in a repository, besides the task branches. */
export const MaestroRefs = {
  /** A blob holding the highest fencing token that moved a task branch (storage-side fencing). */
  gitIndexFence: 'refs/maestro/fence/git-index',
  /**
   * A blob recording that a work item's commit landed on its task branch (see merged-record.ts),
   * written in the same ref transaction as the branch move: a redelivered work item whose outcome
   * was never stored finds it and reports the commit instead of redoing the work.
   */
  merged: (taskId: string, workId: string) => `refs/maestro/merged/${toSafeSegment(taskId)}/${toSafeSegment(workId)}`,
  /**
   * A commit holding the unfinished work of a subtask's last attempt (escalated, failed or handed
   * back), so its next attempt starts from it, as Orion's hint assumes.
   */
  carried: (taskId: string, subtaskId: string) => `refs/maestro/carried/${toSafeSegment(taskId)}/${toSafeSegment(subtaskId)}`,
} as const;
