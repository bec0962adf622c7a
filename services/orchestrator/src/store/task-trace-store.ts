/**
 * The port that keeps each task's trace context with the task. A task's work goes on long after
 * the SubmitTask call that began it (plan, dispatch, review, StartRun retries), driven by NATS
 * messages and timers; those spans are started from the context kept here, so one task is one
 * trace whatever woke its work up.
 */
import type { TraceCarrier } from '@maestro/runtime';

/** Where tasks' trace contexts are kept. */
export interface TaskTraceStore {
  /**
   * Keeps `carrier` as the task's trace context unless it has one already, and returns the one
   * it has now (the first kept wins). Null when the task is unknown.
   */
  remember(taskId: string, carrier: TraceCarrier): Promise<TraceCarrier | null>;
  /** The task's trace context, or null when none was kept (or the task is unknown). */
  recall(taskId: string): Promise<TraceCarrier | null>;
}
