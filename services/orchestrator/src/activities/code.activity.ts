/**
 * `code`: hands the plan's subtasks to the executors, one `SubtaskWork` per attempt, in the
 * order the scheduler allows (`concern-schedule.ts`): subtasks that share a file or a declared
 * resource one after the other in plan order, after what they depend on; the rest at once. This
 * request starts what may start now; the result recorder and the escalation handler start the
 * rest as results arrive. The activity's result is not published here: it is published when
 * the last subtask is final (see `record-subtask-result.ts`), using the request reference
 * stored on the task now.
 */
import { UserError } from '@maestro/runtime';
import { deliveryModeOf } from '../domain/delivery.js';
import { buildCodeActivityResult, planCodeDispatch } from '../domain/subtask-progress.js';
import type { CodeActivityRef } from '../domain/task.js';
import { applyDispatch } from '../app/advance-subtasks.js';
import { publishUnacknowledgedWork } from '../app/publish-subtask-work.js';
import { assertTaskActive, TASK_NOT_FOUND, type Activity } from './activity.js';

export { toWork } from '../domain/subtask-work.js';

/** Error code when code is requested for a task that has no plan. */
export const NO_PLAN = 'NO_PLAN';

/** Output (published later): `{ subtasks: [{ id, title, status, summary, commitSha, filesChanged }] }`. */
export const codeActivity: Activity = async (invocation) => {
  const { request, deps, logger } = invocation;
  const ref: CodeActivityRef = {
    workId: request.workId,
    runId: request.runId,
    state: request.state,
    activity: request.activity,
    attempt: request.attempt,
  };
  const delivery = deliveryModeOf(request.context);

  // Record the attempts first and publish after commit, then mark what the stream acknowledged.
  // If a publish fails (or Orion dies before marking) the request is redelivered, recognized by
  // its workId, and only the attempts never marked are published again. Between a publish and
  // its mark lies the one window in which a repeat can publish an attempt twice; a redelivery
  // inside the stream's duplicate window (2 minutes) drops it by message id.
  const dispatch = await deps.store.withLockedTask(invocation.taskId, async (locked) => {
    assertTaskActive(locked.task);
    const before = await locked.subtasks();
    if (before.length === 0) {
      throw new UserError(NO_PLAN, `task ${locked.task.id} has no planned subtasks; the plan activity must run before code`, {
        reason: 'precondition',
      });
    }
    const plan = planCodeDispatch(locked.task, before, ref);
    await applyDispatch(locked, plan);
    await locked.update({ code: ref, deliveryMode: delivery.mode });
    return { subtasks: await locked.subtasks(), plan };
  });
  if (!dispatch) throw new UserError(TASK_NOT_FOUND, `task ${invocation.taskId} does not exist`, { reason: 'not_found' });
  if (!delivery.ok) logger.warn('the workflow asks for an unknown delivery mode; the task branch will be left for review', { problem: delivery.problem });

  const published = await publishUnacknowledgedWork(invocation.taskId, deps);
  const { plan } = dispatch;
  logger.info('subtasks dispatched', {
    dispatched: published.map((d) => `${d.subtaskId}#${d.attempt}`),
    waiting: plan.waiting.map((w) => `${w.subtaskId}: ${w.reason}`),
    failed: plan.fails.map((f) => `${f.subtaskId}: ${f.reason}`),
    total: dispatch.subtasks.length,
  });
  if (plan.allFinal) {
    // Nothing to wait for (every subtask already succeeded, or failed without running).
    await deps.work.publishActivityResult(buildCodeActivityResult(ref, dispatch.subtasks, new Date(deps.clock.now()).toISOString()));
  }
  return { kind: 'deferred' };
};
