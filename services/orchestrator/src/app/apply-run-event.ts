/**
 * Handles one `maestro.events.run.*` event: moves the task of a coding run to running,
 * succeeded, failed (with the run's error) or cancelled, and announces the change on
 * `maestro.events.task.updated`. Events of runs that are not a task's are skipped. A live run
 * of a task that already ended (cancelled before its run was known) is sent CANCEL.
 */
import type { RunEvent } from '@maestro/contracts';
import type { Logger } from '@maestro/runtime';
import type { TaskEvents } from '../domain/ports.js';
import { isFinalTaskStatus, nextTaskStatusForRun, type TaskRecord } from '../domain/task.js';
import { cancelLateRun, type LateRunDeps } from './cancel-late-run.js';

/** What applying needs. */
export interface RunEventDeps extends LateRunDeps {
  taskEvents: TaskEvents;
}

/** What was decided under the task's lock. */
type Decision = { kind: 'updated'; task: TaskRecord } | { kind: 'late'; task: TaskRecord };

/** Applies a run event; returns the updated task when its status changed. */
export async function applyRunEvent(event: RunEvent, deps: RunEventDeps, logger: Logger): Promise<TaskRecord | undefined> {
  // A note (an escalation Orion recorded in the run's history) moves nothing.
  if (event.note === true) return undefined;
  const fromInput = typeof event.input?.taskId === 'string' ? event.input.taskId : undefined;
  const taskId = fromInput ?? (await deps.store.findTaskIdByRunId(event.runId));
  if (!taskId) return undefined;
  const log = logger.child({ taskId, runId: event.runId });

  // Only decided under the lock: the CANCEL of a late run goes out after the commit, so no
  // row lock waits on the workflow-engine.
  const decision = await deps.store.withLockedTask(taskId, async (locked): Promise<Decision | undefined> => {
    // A task has one run; an event of another run that names the task changes nothing.
    if (locked.task.runId !== null && locked.task.runId !== event.runId) return undefined;
    if (isFinalTaskStatus(locked.task.status)) {
      // The first word of a run the task never knew: it was cancelled while StartRun was in flight.
      return locked.task.runId === null && event.status === 'running' ? { kind: 'late', task: locked.task } : undefined;
    }
    const change = nextTaskStatusForRun(locked.task.status, event);
    if (!change) return undefined;
    const task = await locked.update({
      status: change.status,
      ...(change.failureReason !== undefined ? { failureReason: change.failureReason } : {}),
      // The run's first event can overtake SubmitTask storing the run id.
      ...(locked.task.runId === null ? { runId: event.runId } : {}),
    });
    return { kind: 'updated', task };
  });
  if (!decision) return undefined;
  if (decision.kind === 'late') {
    // A transient CANCEL failure throws before the run id is recorded: the event is
    // redelivered and the CANCEL sent again.
    await cancelLateRun(decision.task, event.runId, deps, log);
    return undefined;
  }
  const updated = decision.task;
  log.info('task status changed', { status: updated.status, runStatus: event.status, state: event.state });
  await deps.taskEvents.updated(updated);
  return updated;
}
