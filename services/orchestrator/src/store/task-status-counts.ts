/**
 * The port through which the metrics read how many tasks are unfinished, by status, when
 * Prometheus scrapes. Only unfinished statuses are counted: their rows are bounded by the work
 * in progress, while finished tasks pile up for ever (their rate is a counter instead, see
 * `metrics.ts`).
 */
import { TaskStatuses, type TaskStatus } from '../domain/task.js';

/** The statuses of tasks that have not finished. */
export const UnfinishedTaskStatuses = [TaskStatuses.pending, TaskStatuses.running] as const satisfies readonly TaskStatus[];
export type UnfinishedTaskStatus = (typeof UnfinishedTaskStatuses)[number];

/** Reads unfinished task counts. */
export interface TaskStatusCounts {
  /**
   * How many tasks are in each unfinished status, each count capped (a count at the cap means
   * "at least that many"). Rejects when the store does not answer within its own time limit.
   */
  countUnfinished(): Promise<Record<UnfinishedTaskStatus, number>>;
}
