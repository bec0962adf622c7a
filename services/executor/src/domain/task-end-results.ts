/**
 * The failed results of work whose task ended (cancelled, failed, succeeded): not started, or
 * stopped while it ran. Never a hand-back: nobody waits for the work any more. Pure.
 */
import type { SubtaskResult, SubtaskWork } from '@maestro/contracts';
import type { FinalTaskStatus } from './ended-tasks.js';
import { toFailedResult, type ResultOrigin } from './subtask-result.js';

/** The failed result of a subtask whose task ended before it started; the agent never ran. */
export function toNotStartedResult(work: SubtaskWork, status: FinalTaskStatus, origin: ResultOrigin): SubtaskResult {
  return toFailedResult(work, `task ${work.taskId} ended (${status}) before this subtask started`, origin);
}

/** The failed result of a subtask stopped because its task ended while it ran. */
export function toStoppedResult(work: SubtaskWork, status: FinalTaskStatus, origin: ResultOrigin): SubtaskResult {
  return toFailedResult(work, `task ${work.taskId} ended (${status}) while this subtask ran; stopped`, origin);
}
