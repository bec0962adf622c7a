/**
 * The task's branch in the user's repository: created once from the repository's HEAD commit,
 * with a create-only ref update (`git update-ref refs/heads/<b> <sha> ""`), so two subtasks
 * starting together agree on one branch; never the branch the user has checked out.
 */
import { invalidField, UserError } from '@maestro/runtime';
import { gitOk, resolveCommit, runGit } from './git-cli.js';

/**
 * Makes sure `branch` exists in `repoRoot` and returns its tip. Refuses a name git does not
 * accept as a branch (`taskBranch`), the branch checked out in the user's working tree, and a
 * repository without a commit to start from.
 */
export async function ensureTaskBranch(repoRoot: string, branch: string): Promise<string> {
  const valid = await runGit(repoRoot, ['check-ref-format', '--branch', branch]);
  if (valid.code !== 0) throw invalidField('taskBranch', `"${branch}" is not a valid git branch name`);
  const ref = `refs/heads/${branch}`;
  const checkedOut = await runGit(repoRoot, ['symbolic-ref', '-q', 'HEAD']);
  if (checkedOut.code === 0 && checkedOut.stdout.trim() === ref) {
    throw new UserError('TASK_BRANCH_CHECKED_OUT', `taskBranch: ${branch} is the branch checked out in ${repoRoot}; a task never works on the user's branch`, {
      field: 'taskBranch',
      reason: 'precondition',
    });
  }
  const existing = await resolveCommit(repoRoot, ref);
  if (existing !== undefined) return existing;
  const head = await resolveCommit(repoRoot, 'HEAD');
  if (head === undefined) {
    throw new UserError('REPOSITORY_EMPTY', `repoPath: ${repoRoot} has no commit to start the task branch ${branch} from`, {
      field: 'repoPath',
      reason: 'precondition',
    });
  }
  const created = await runGit(repoRoot, ['update-ref', '-m', 'maestro: task branch', ref, head, '']);
  if (created.code === 0) return head;
  // Created by someone else between our look and our update: theirs is the branch.
  const raced = await resolveCommit(repoRoot, ref);
  if (raced !== undefined) return raced;
  return gitOk(repoRoot, ['update-ref', ref, head, '']);
}
