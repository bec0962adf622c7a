/**
 * `code`: dispatches the plan's subtasks to the executors, one `SubtaskWork` each. The
 * activity's result is not published here: it is published by the subtask-results consumer
 * when the last subtask result arrives (see `record-subtask-result.ts`), using the request
 * reference stored on the task now.
 */
import type { SubtaskWork } from '@maestro/contracts';
import { UserError } from '@maestro/runtime';
import { buildCodeActivityResult, planCodeDispatch, subtaskWorkId } from '../domain/subtask-progress.js';
import type { CodeActivityRef, SubtaskRecord, TaskRecord } from '../domain/task.js';
import { publishSubtaskWork } from '../app/publish-subtask-work.js';
import { assertTaskActive, TASK_NOT_FOUND, type Activity } from './activity.js';

/** Error code when code is requested for a task that has no plan. */
export const NO_PLAN = 'NO_PLAN';

/** The `SubtaskWork` of one attempt of a subtask; escalation decisions dispatch with it too. */
export function toWork(task: TaskRecord, subtask: SubtaskRecord, runId: string, attempt: number): SubtaskWork {
  return {
    workId: subtaskWorkId(task.id, subtask.id, attempt),
    taskId: task.id,
    runId,
    subtaskId: subtask.id,
    attempt,
    goal: task.goal,
    title: subtask.title,
    instructions: subtask.instructions,
    files: subtask.files,
    repoPath: task.repoPath,
    testCommand: task.testCommand,
    project: task.project,
    budget: { usd: task.budget.usd, tokens: task.budget.tokens },
    ...(task.intent !== null ? { taskIntent: task.intent.intent } : {}),
    // After an escalation: Orion's hint, and the strategic model when it took the subtask over.
    ...(subtask.hint !== null ? { hint: subtask.hint } : {}),
    ...(subtask.role !== null ? { role: subtask.role } : {}),
  };
}

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
    for (const d of plan.dispatches.filter((x) => x.isNew)) {
      await locked.updateSubtask(d.subtaskId, {
        status: 'running',
        attempt: d.attempt,
        summary: null,
        commitSha: null,
        filesChanged: [],
        failureReason: null,
        result: null,
      });
    }
    const task = await locked.update({ code: ref });
    return { task, subtasks: await locked.subtasks(), plan };
  });
  if (!dispatch) throw new UserError(TASK_NOT_FOUND, `task ${invocation.taskId} does not exist`, { reason: 'not_found' });

  const byId = new Map(dispatch.subtasks.map((s) => [s.id, s]));
  const work = dispatch.plan.dispatches.flatMap((d) => {
    const subtask = byId.get(d.subtaskId);
    return subtask ? [toWork(dispatch.task, subtask, request.runId, d.attempt)] : [];
  });
  const published = await publishSubtaskWork(invocation.taskId, work, deps);
  logger.info('subtasks dispatched', {
    dispatched: published.map((d) => `${d.subtaskId}#${d.attempt}`),
    total: dispatch.subtasks.length,
  });
  if (dispatch.plan.allFinal) {
    // Every subtask already succeeded in an earlier attempt: nothing to wait for.
    await deps.work.publishActivityResult(
      buildCodeActivityResult(ref, dispatch.subtasks, new Date(deps.clock.now()).toISOString()),
    );
  }
  return { kind: 'deferred' };
};
