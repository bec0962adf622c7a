/**
 * Applies the scheduler's decisions under the task's row lock (the caller's transaction): puts
 * subtasks back to waiting, fails those whose dependency failed, records new attempts as
 * running, and publishes the `code` result once every subtask is final. The code activity, the
 * result recorder and the escalation handler all go through here, so the subtasks of a task are
 * scheduled by one rule whatever changed them. What was dispatched is published after the
 * commit with `publishUnacknowledgedWork` (`publish-subtask-work.ts`).
 */
import type { Clock } from '@maestro/runtime';
import type { ScheduledFailure } from '../domain/concern-schedule.js';
import { toEscalationListing } from '../domain/escalations.js';
import type { WorkPublisher } from '../domain/ports.js';
import { buildCodeActivityResult, planNextDispatch, type NextDispatch, type SubtaskDispatch } from '../domain/subtask-progress.js';
import { isFinalTaskStatus } from '../domain/task.js';
import type { LockedTask, SubtaskPatch } from '../store/task-store.js';

/** A subtask's fields cleared whenever it waits for, or starts, a new attempt. */
function fresh(): SubtaskPatch {
  return { summary: null, commitSha: null, filesChanged: [], failureReason: null, result: null };
}

/** Records scheduler decisions: subtasks put back to waiting, failed without running, started. */
export async function applyDispatch(
  locked: LockedTask,
  plan: { resets?: readonly string[]; fails: readonly ScheduledFailure[]; dispatches: readonly SubtaskDispatch[] },
): Promise<void> {
  for (const id of plan.resets ?? []) await locked.updateSubtask(id, { status: 'pending', ...fresh() });
  for (const f of plan.fails) await locked.updateSubtask(f.subtaskId, { status: 'failed', ...fresh(), failureReason: f.reason });
  for (const d of plan.dispatches.filter((x) => x.isNew)) await locked.updateSubtask(d.subtaskId, { status: 'running', attempt: d.attempt, ...fresh() });
}

/** What advancing did. */
export interface Advanced extends NextDispatch {
  /** True when this call published the `code` activity's result (every subtask is final). */
  published: boolean;
}

/**
 * Schedules the task's subtasks after a change and records the decisions; publishes the `code`
 * result (before the commit, so a failed publish rolls everything back and the redelivery tries
 * again) when every subtask is final. A task that ended, or has no `code` activity being served,
 * starts nothing.
 */
export async function advanceSubtasks(locked: LockedTask, deps: { work: Pick<WorkPublisher, 'publishActivityResult'>; clock: Pick<Clock, 'now'> }): Promise<Advanced> {
  const subtasks = await locked.subtasks();
  if (isFinalTaskStatus(locked.task.status) || locked.task.code === null) {
    return { dispatches: [], fails: [], waiting: [], allFinal: false, published: false };
  }
  const next = planNextDispatch(subtasks);
  await applyDispatch(locked, next);
  if (!next.allFinal) return { ...next, published: false };
  const final = await locked.subtasks();
  const escalations = (await locked.escalations()).map(toEscalationListing);
  await deps.work.publishActivityResult(buildCodeActivityResult(locked.task.code, final, new Date(deps.clock.now()).toISOString(), escalations));
  return { ...next, published: true };
}
