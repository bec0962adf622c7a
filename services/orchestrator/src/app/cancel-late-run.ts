/**
 * A run that turns up after its task ended: the task was cancelled while StartRun was in
 * flight (or before the engine came back), and the engine created the run anyway. Orion sends
 * the run CANCEL and attaches it to the task, so no agent works for a task nobody wants.
 * Activities refuse such a run's work too (`TASK_ENDED`); the CANCEL makes it stop at once
 * instead of at its next activity.
 */
import { toMaestroError, UserError, type Logger } from '@maestro/runtime';
import type { WorkflowPort } from '../domain/ports.js';
import type { TaskRecord } from '../domain/task.js';
import type { TaskStore } from '../store/task-store.js';

/** What cancelling a late run needs. */
export interface LateRunDeps {
  store: TaskStore;
  workflow: WorkflowPort;
  /** Deadline of the SendEvent call. @default 10000 */
  workflowDeadlineMs?: number;
}

/**
 * Sends the run CANCEL, then records `runId` on the ended task in a short transaction of its
 * own. The caller decided under the task's lock that the run is late and released the lock:
 * no row lock is held across the gRPC call. A transient failure throws before the run id is
 * recorded, so whoever retries (a redelivered run event) sends CANCEL again; a refusal (the
 * run is already over, or gone) is logged and the run id recorded all the same. Idempotent:
 * a second call sends a harmless second CANCEL and leaves a recorded run id as it is.
 */
export async function cancelLateRun(task: TaskRecord, runId: string, deps: LateRunDeps, logger: Logger): Promise<void> {
  const reason = task.failureReason ?? `the task ${task.status} before its run started`;
  try {
    const run = await deps.workflow.sendEvent(
      { tenant: task.tenant, runId, type: 'CANCEL', payload: { reason } },
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
  await deps.store.withLockedTask(task.id, async (locked) => {
    if (locked.task.runId === null) await locked.update({ runId });
  });
}
