/**
 * The review's last step: delivers a task's work as its workflow asked (see `domain/delivery.ts`)
 * and says what happened. Only the commit the review saw is ever delivered: approved work on the
 * task branch is left there (`branch`) or the user's checked-out branch is fast-forwarded to
 * exactly that commit when safe (`fast-forward`). When the task branch no longer points at the
 * reviewed commit (a merge landed after the review read it), nothing is delivered: that merge
 * was never reviewed. A rejected change, a task branch nobody merged into, or an unsafe
 * fast-forward also leave the branch as it is, with the reason. Idempotent: delivering again
 * finds the user's branch already there.
 */
import { DeliveryModes, notApprovedDelivery, taskBranchName, type BranchDelivery, type DeliveryModeChoice, type TaskDelivery } from '../domain/delivery.js';
import type { TaskRecord } from '../domain/task.js';

/** The review's verdict and the task branch commit it covers (`TaskRecord.reviewSha`). */
export interface ReviewedWork {
  approved: boolean;
  /** The task branch's commit when the review read it; '' when there was no branch; null when not recorded. */
  sha: string | null;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

/** Delivers the reviewed commit of the task's branch after the verdict; returns the outcome to store. */
export async function deliverTask(
  task: Pick<TaskRecord, 'id' | 'repoPath'>,
  review: ReviewedWork,
  choice: DeliveryModeChoice,
  git: BranchDelivery,
): Promise<TaskDelivery> {
  const { mode } = choice;
  const branch = taskBranchName(task.id);
  const tip = await git.branchSha(task.repoPath, branch);
  if (!review.approved) return notApprovedDelivery(mode, branch, review.sha ?? tip);
  if (review.sha === null) {
    return {
      mode, branch, sha: tip ?? '', delivered: false,
      reason: `the commit the review saw was not recorded (the review was stored by an older Orion), so nothing is delivered; the task branch ${branch} is left for review`,
    };
  }
  if (review.sha === '' && tip === undefined) {
    return { mode, branch, sha: '', delivered: false, reason: `the task branch ${branch} does not exist: no subtask merged into it, so there is nothing to deliver` };
  }
  if (tip !== review.sha) {
    const saw = review.sha === '' ? 'no task branch' : short(review.sha);
    const now = tip === undefined ? 'it no longer exists' : `it is now at ${short(tip)}`;
    return {
      mode, branch, sha: review.sha, delivered: false,
      reason: `the task branch ${branch} moved after the review: the review saw ${saw}, ${now}; the commits since were never reviewed, so nothing is delivered and the branch is left for review`,
    };
  }
  const sha = review.sha;
  if (mode === DeliveryModes.branch) {
    const why = choice.ok ? '' : `${choice.problem}, so `;
    return { mode, branch, sha, delivered: true, reason: `${why}the task branch ${branch} (${short(sha)}) is left for review; merge it when ready` };
  }
  // The reviewed commit itself, not the branch name: a merge landing from here on cannot ride along.
  const ff = await git.fastForward(task.repoPath, sha, branch);
  if (ff.done) return { mode, branch, sha, delivered: true, reason: `${ff.userBranch} was fast-forwarded to ${branch} (${short(sha)})` };
  return { mode, branch, sha, delivered: false, reason: `not fast-forwarded: ${ff.reason}; the task branch ${branch} (${short(sha)}) is left for review` };
}
