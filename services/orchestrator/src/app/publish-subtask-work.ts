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
import type { SubtaskDispatched, TaskStore } from '../store/task-store.js';

/** Publishes `work` in order and marks the acknowledged attempts; returns them. */
export async function publishSubtaskWork(
  taskId: string,
  work: readonly SubtaskWork[],
  deps: { work: Pick<WorkPublisher, 'publishSubtaskWork'>; store: Pick<TaskStore, 'withLockedTask'>; clock: Pick<Clock, 'now'> },
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
