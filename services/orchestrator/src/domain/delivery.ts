/**
 * Delivery: what becomes of a task's work. Subtasks merge into the task's own branch
 * `maestro/<taskId>`, never into the user's. After the review approves, the task is delivered
 * in one of two modes:
 *
 * - `branch` (the default): the task branch is left for the user to review and merge;
 * - `fast-forward`: the user's checked-out branch is fast-forwarded to the task branch, only
 *   when that is safe (the user's working tree is clean and their branch tip is an ancestor of
 *   the task branch); otherwise the task branch is left and the outcome says why.
 *
 * The mode comes from the run's workflow: its definition's `context.delivery`, which the engine
 * copies into every run's context and so into every activity request. A task that fails or is
 * cancelled leaves its branch as it is.
 */

/** How approved work is delivered. */
export const DeliveryModes = {
  branch: 'branch',
  fastForward: 'fast-forward',
} as const;
export type DeliveryMode = (typeof DeliveryModes)[keyof typeof DeliveryModes];

/** The delivery mode when the workflow names none. */
export const DEFAULT_DELIVERY_MODE: DeliveryMode = DeliveryModes.branch;

/** What delivery did: the task's outcome as GetTask shows it. */
export interface TaskDelivery {
  mode: DeliveryMode;
  /** The task branch, `maestro/<taskId>`. */
  branch: string;
  /** The task branch's commit ('' when the branch does not exist). */
  sha: string;
  /**
   * True when the work is where the mode puts it: on the task branch (`branch`), or on the user's
   * branch too (`fast-forward`). False for a task that failed, was cancelled or not approved, and
   * for a fast-forward that was refused.
   */
  delivered: boolean;
  /** In words: what was done, or why not. */
  reason: string;
}

/** The task's branch, which subtasks branch from and merge into. */
export function taskBranchName(taskId: string): string {
  return `maestro/${taskId}`;
}

/** The delivery mode a run's context asks for, or why its value cannot be used. */
export type DeliveryModeChoice = { ok: true; mode: DeliveryMode } | { ok: false; mode: DeliveryMode; problem: string };

/**
 * Reads `context.delivery` of an activity request (set by the workflow definition's `context`).
 * Absent → {@link DEFAULT_DELIVERY_MODE}; anything but `branch` or `fast-forward` → the default,
 * with the problem named, so the task branch is left rather than the user's branch touched.
 */
export function deliveryModeOf(context: Record<string, unknown>): DeliveryModeChoice {
  const value = context['delivery'];
  if (value === undefined || value === null) return { ok: true, mode: DEFAULT_DELIVERY_MODE };
  if (value === DeliveryModes.branch || value === DeliveryModes.fastForward) return { ok: true, mode: value };
  return {
    ok: false,
    mode: DEFAULT_DELIVERY_MODE,
    problem: `context.delivery: must be "branch" or "fast-forward", got ${JSON.stringify(value)}`,
  };
}

/** What the git adapter reports after trying to fast-forward the user's branch. */
export type FastForwardOutcome = { done: true; userBranch: string } | { done: false; reason: string };

/** The git side of delivery (adapter: `GitBranchDelivery`). */
export interface BranchDelivery {
  /** The commit `branch` points at in the repository, or undefined when there is no such branch. */
  branchSha(repoPath: string, branch: string): Promise<string | undefined>;
  /** The commits several branches of one repository point at, in one git call; missing branches are left out. */
  branchShas(repoPath: string, branches: readonly string[]): Promise<Map<string, string>>;
  /**
   * Fast-forwards the branch checked out in `repoPath` to `sha` (the task branch's commit), only
   * when the working tree is clean and the branch's tip is an ancestor of `sha`; else says why.
   */
  fastForward(repoPath: string, sha: string, taskBranch: string): Promise<FastForwardOutcome>;
}

/** The outcome of a task whose review did not approve the change: the branch stays. */
export function notApprovedDelivery(mode: DeliveryMode, branch: string, sha: string | undefined): TaskDelivery {
  return {
    mode,
    branch,
    sha: sha ?? '',
    delivered: false,
    reason: `the review did not approve the change; ${describeBranch(branch, sha)} is left as it is`,
  };
}

function describeBranch(branch: string, sha: string | undefined): string {
  return sha === undefined || sha === '' ? `the task branch ${branch} (which does not exist)` : `the task branch ${branch} at ${sha.slice(0, 12)}`;
}

/** True when the task's delivery is only shown, never decided: it failed or was cancelled before a review delivered. */
export function needsBranchTip(task: { status: string; delivery: TaskDelivery | null }): boolean {
  return task.delivery === null && (task.status === 'failed' || task.status === 'cancelled');
}

/**
 * The delivery GetTask shows: the stored one (the review decided), else for a task that failed
 * or was cancelled its branch left as it is, at `branchTip` — the branch's commit as git has it
 * now ('' no branch; null or undefined: git could not be asked). Git is the truth here, not the
 * executors' reports: their clocks disagree, so no report can say which merge came last.
 * Null while the task is going (not decided yet).
 */
export function deliveryView(
  task: { id: string; status: string; deliveryMode: DeliveryMode | null; delivery: TaskDelivery | null },
  branchTip: string | null | undefined,
): TaskDelivery | null {
  if (task.delivery !== null) return task.delivery;
  if (!needsBranchTip(task)) return null;
  const branch = taskBranchName(task.id);
  const ended = `the task ${task.status === 'failed' ? 'failed' : 'was cancelled'}`;
  const where =
    branchTip === null || branchTip === undefined
      ? `its branch ${branch} (if any subtask merged into it) is left as it is; git could not be asked where it points`
      : branchTip === ''
        ? `no subtask merged into it, so there is no branch ${branch}`
        : `its branch ${branch} is left as it is`;
  return { mode: task.deliveryMode ?? DEFAULT_DELIVERY_MODE, branch, sha: branchTip ?? '', delivered: false, reason: `${ended}; ${where}` };
}
