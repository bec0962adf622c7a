/**
 * Handles one `SubtaskResult` from `maestro.results.subtask`: in one transaction holding the
 * task's row lock it records the result (ignoring duplicates and stale attempts) and, when that
 * result was the last one outstanding, publishes the `code` state's `ActivityResult`.
 *
 * The result is published before the transaction commits, on purpose: if the publish fails the
 * recording rolls back and the redelivered message tries again; if the commit fails after the
 * publish, the retry publishes the same message id and the stream drops the duplicate. Either
 * way the code result is published exactly once per fan-out.
 */
import type { SubtaskResult } from '@maestro/contracts';
import type { Clock, Logger } from '@maestro/runtime';
import { toEscalationListing } from '../domain/escalations.js';
import type { WorkPublisher } from '../domain/ports.js';
import { buildCodeActivityResult, decideSubtaskResult, type SubtaskResultDecision } from '../domain/subtask-progress.js';
import type { TaskStore } from '../store/task-store.js';

/** What recording needs. */
export interface SubtaskResultDeps {
  store: TaskStore;
  work: WorkPublisher;
  clock: Clock;
}

/** What happened to a result; `published` is true when it completed the fan-out. */
export type RecordOutcome =
  | { action: 'unknown-task' }
  | (SubtaskResultDecision & { published: boolean });

/** Records a subtask result; see the module comment for the exactly-once argument. */
export async function recordSubtaskResult(result: SubtaskResult, deps: SubtaskResultDeps, logger: Logger): Promise<RecordOutcome> {
  const log = logger.child({ taskId: result.taskId, subtaskId: result.subtaskId, attempt: result.attempt });
  const outcome = await deps.store.withLockedTask(result.taskId, async (locked) => {
    const subtasks = await locked.subtasks();
    const decision = decideSubtaskResult(locked.task, subtasks, result);
    if (decision.action === 'ignore') return { ...decision, published: false };
    await locked.updateSubtask(result.subtaskId, {
      status: decision.status,
      summary: result.summary,
      commitSha: result.commitSha ?? null,
      filesChanged: result.filesChanged,
      failureReason: result.ok ? null : (result.failureReason ?? 'the executor reported a failure without a reason'),
      result: result as unknown as Record<string, unknown>,
    });
    if (!decision.completesCode || !locked.task.code) return { ...decision, published: false };
    const final = await locked.subtasks();
    const escalations = (await locked.escalations()).map(toEscalationListing);
    const activityResult = buildCodeActivityResult(locked.task.code, final, new Date(deps.clock.now()).toISOString(), escalations);
    await deps.work.publishActivityResult(activityResult);
    log.info('code activity finished', { ok: activityResult.ok, subtasks: final.length, workId: activityResult.workId });
    return { ...decision, published: true };
  });
  if (!outcome) {
    log.warn('subtask result for an unknown task ignored');
    return { action: 'unknown-task' };
  }
  if (outcome.action === 'ignore') log.info('subtask result ignored', { reason: outcome.reason });
  else log.info('subtask result recorded', { status: outcome.status });
  return outcome;
}
