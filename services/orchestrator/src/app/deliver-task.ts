/**
 * The review's last step: delivers a task's work as its workflow asked (see `domain/delivery.ts`)
 * and says what happened. Approved work on the task branch is left there (`branch`) or the
 * user's checked-out branch is fast-forwarded to it when safe (`fast-forward`); a rejected
 * change, a task branch nobody merged into, or an unsafe fast-forward leaves the branch as it is,
 * with the reason. Idempotent: delivering again finds the user's branch already there.
 */
import { DeliveryModes, notApprovedDelivery, taskBranchName, type BranchDelivery, type DeliveryModeChoice, type TaskDelivery } from '../domain/delivery.js';
import type { TaskRecord } from '../domain/task.js';

/** Delivers the task's branch after the review's verdict; returns the outcome to store. */
export async function deliverTask(
  task: Pick<TaskRecord, 'id' | 'repoPath'>,
  approved: boolean,
  choice: DeliveryModeChoice,
  git: BranchDelivery,
): Promise<TaskDelivery> {
  const { mode } = choice;
  const branch = taskBranchName(task.id);
  const sha = await git.branchSha(task.repoPath, branch);
  if (!approved) return notApprovedDelivery(mode, branch, sha);
  if (sha === undefined) {
    return { mode, branch, sha: '', delivered: false, reason: `the task branch ${branch} does not exist: no subtask merged into it, so there is nothing to deliver` };
  }
  const short = sha.slice(0, 12);
  if (mode === DeliveryModes.branch) {
    const why = choice.ok ? '' : `${choice.problem}, so `;
    return { mode, branch, sha, delivered: true, reason: `${why}the task branch ${branch} (${short}) is left for review; merge it when ready` };
  }
  const ff = await git.fastForward(task.repoPath, sha, branch);
  if (ff.done) return { mode, branch, sha, delivered: true, reason: `${ff.userBranch} was fast-forwarded to ${branch} (${short})` };
  return { mode, branch, sha, delivered: false, reason: `not fast-forwarded: ${ff.reason}; the task branch ${branch} (${short}) is left for review` };
}
