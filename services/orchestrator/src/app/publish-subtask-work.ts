/**
 * Publishes subtask work and marks what the stream acknowledged as dispatched — the one
 * exactly-once rule of every dispatch (the `code` activity's fan-out, an escalation decision's
 * next attempt or re-plan): the attempts are recorded before, published after the commit, and
 * marked once acknowledged. Whatever was acknowledged is marked even when a later publish fails,
 * so a redelivery publishes only the rest; between a publish and its mark lies the one window in
 * which a repeat can publish an attempt twice, and the stream's duplicate window drops it by
 * message id.
 */
import type { SubtaskWork } from '@maestro/contracts';
import type { Clock } from '@maestro/runtime';
import type { WorkPublisher } from '../domain/ports.js';
import { unacknowledgedAttempts } from '../domain/subtask-progress.js';
import { toWork } from '../domain/subtask-work.js';
import { isFinalTaskStatus } from '../domain/task.js';
import type { SubtaskDispatched, TaskStore } from '../store/task-store.js';

/** What publishing needs. */
export interface PublishWorkDeps {
  work: Pick<WorkPublisher, 'publishSubtaskWork'>;
  store: Pick<TaskStore, 'withLockedTask'>;
  clock: Pick<Clock, 'now'>;
}

/** Publishes `work` in order and marks the acknowledged attempts; returns them. */
export async function publishSubtaskWork(
  taskId: string,
  work: readonly SubtaskWork[],
  deps: PublishWorkDeps,
): Promise<SubtaskDispatched[]> {
  const published: SubtaskDispatched[] = [];
  try {
    for (const w of work) {
      await deps.work.publishSubtaskWork(w);
      published.push({ subtaskId: w.subtaskId, attempt: w.attempt });
    }
  } finally {
    if (published.length > 0) {
      const at = new Date(deps.clock.now());
      await deps.store.withLockedTask(taskId, (locked) => locked.markDispatched(published, at));
    }
  }
  return published;
}

/**
 * Publishes every attempt of the task that was recorded as running but never acknowledged by
 * the stream (what the scheduler just started, or what a crash left unpublished), and marks them.
 * Called after each commit that may have started subtasks: a redelivery of the same message
 * finds them marked and publishes nothing. A task that ended, or whose `code` activity is not
 * being served, publishes nothing.
 */
export async function publishUnacknowledgedWork(
  taskId: string,
  deps: PublishWorkDeps & { store: Pick<TaskStore, 'withLockedTask' | 'getTask'> },
): Promise<SubtaskDispatched[]> {
  const found = await deps.store.getTask(taskId);
  if (found === undefined || found.task.code === null || isFinalTaskStatus(found.task.status)) return [];
  const { task, subtasks } = found;
  const runId = task.code?.runId ?? '';
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const work = unacknowledgedAttempts(subtasks).flatMap((d) => {
    const subtask = byId.get(d.subtaskId);
    return subtask ? [toWork(task, subtask, runId, d.attempt)] : [];
  });
  return publishSubtaskWork(taskId, work, deps);
}
