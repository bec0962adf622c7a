/**
 * A run that turns up after its task ended: the task was cancelled while StartRun was in
 * flight (or before the engine came back), and the engine created the run anyway. Orion
 * attaches the run to the task and sends it CANCEL, so no agent works for a task nobody wants.
 * Activities refuse such a run's work too (`TASK_ENDED`); the CANCEL makes it stop at once
 * instead of at its next activity.
 */
import { toMaestroError, UserError, type Logger } from '@maestro/runtime';
import type { WorkflowPort } from '../domain/ports.js';
import type { LockedTask } from '../store/task-store.js';

/** What cancelling a late run needs. */
export interface LateRunDeps {
  workflow: WorkflowPort;
  /** Deadline of the SendEvent call. @default 10000 */
  workflowDeadlineMs?: number;
}

/**
 * Records `runId` on the ended task and sends the run CANCEL, inside the task's lock. A
 * transient failure throws (rolling the run id back, so whoever retries sends it again); a
 * refusal (the run is already over, or gone) is logged and the run id recorded all the same.
 */
export async function cancelLateRun(locked: LockedTask, runId: string, deps: LateRunDeps, logger: Logger): Promise<void> {
  const task = locked.task;
  const reason = task.failureReason ?? `the task ${task.status} before its run started`;
  try {
    const run = await deps.workflow.sendEvent(
      { runId, type: 'CANCEL', payload: { reason } },
      { deadlineMs: deps.workflowDeadlineMs ?? 10_000 },
    );
    logger.info('cancel sent to a run that outlived its task', { taskId: task.id, runId, taskStatus: task.status, runStatus: run.status });
  } catch (err) {
    const error = toMaestroError(err);
    if (!(error instanceof UserError)) throw error;
    logger.info('run that outlived its task could not be cancelled; it is already over', {
      taskId: task.id,
      runId,
      code: error.code,
      message: error.message,
    });
  }
  await locked.update({ runId });
}
