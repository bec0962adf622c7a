/**
 * Handles one `SubtaskResult` from `maestro.results.subtask`: in one transaction holding the
 * task's row lock it records the result (ignoring duplicates and stale attempts), runs the
 * scheduler (`concern-schedule.ts`: the subtasks that waited for this one start, those that
 * depended on it fail if it failed) and, when every subtask is final, publishes the `code`
 * state's `ActivityResult`. After the commit it publishes the subtasks it started.
 *
 * The code result is published before the transaction commits, on purpose: if the publish fails
 * the recording rolls back and the redelivered message tries again; if the commit fails after
 * the publish, the retry publishes the same message id and the stream drops the duplicate.
 * Either way the code result is published exactly once per fan-out. A redelivered result is
 * ignored, so it starts nothing; it only publishes attempts a crash left unacknowledged.
 *
 * A verified success (ok, merged into the task branch, tests passing) is then handed to the
 * reflex learner, in the background: if the subtask failed and was escalated before, or its
 * tests failed inside the attempt and the agent fixed them itself (`recoveredFrom`), Orion learns
 * the lesson (`app/learn-reflex.ts`). A redelivered result is handed over too (the learner
 * learns each escalation's success once, and memory merges an own retry's lesson told twice), so
 * a learning a crash interrupted is picked up again.
 * Learning never holds up or fails the result.
 */
import type { SubtaskResult } from '@maestro/contracts';
import type { Clock, Logger } from '@maestro/runtime';
import type { WorkPublisher } from '../domain/ports.js';
import { toSubtaskEvidence } from '../domain/subtask-evidence.js';
import { decideSubtaskResult, type SubtaskResultDecision } from '../domain/subtask-progress.js';
import type { TaskStore } from '../store/task-store.js';
import { advanceSubtasks } from './advance-subtasks.js';
import type { ReflexLearner } from './learn-reflex.js';
import { publishUnacknowledgedWork } from './publish-subtask-work.js';

/** What recording needs. */
export interface SubtaskResultDeps {
  store: TaskStore;
  work: WorkPublisher;
  clock: Clock;
  /** Learns reflexes from verified successes (after escalations or the agent's own retry). @default none: nothing is learned */
  reflexes?: Pick<ReflexLearner, 'learnFrom'>;
}

/** A result that can verify a fix: ok, its commit merged into the task branch, its tests passing. */
function isVerifiedSuccess(result: SubtaskResult): boolean {
  return result.ok && result.tests?.passed === true && (result.merged?.sha ?? '') !== '';
}

/**
 * What happened to a result: `published` is true when it completed the fan-out, `dispatched`
 * lists the subtasks it started (`<id>#<attempt>`).
 */
export type RecordOutcome =
  | { action: 'unknown-task' }
  | (SubtaskResultDecision & { published: boolean; dispatched: string[] });

/** Records a subtask result; see the module comment for the exactly-once argument. */
export async function recordSubtaskResult(result: SubtaskResult, deps: SubtaskResultDeps, logger: Logger): Promise<RecordOutcome> {
  const log = logger.child({ taskId: result.taskId, subtaskId: result.subtaskId, attempt: result.attempt });
  const outcome = await deps.store.withLockedTask(result.taskId, async (locked) => {
    const subtasks = await locked.subtasks();
    const decision = decideSubtaskResult(locked.task, subtasks, result);
    if (decision.action === 'ignore') return { ...decision, published: false, waiting: [] as string[] };
    await locked.updateSubtask(result.subtaskId, {
      status: decision.status,
      summary: result.summary,
      commitSha: result.commitSha ?? null,
      filesChanged: result.filesChanged,
      failureReason: result.ok ? null : (result.failureReason ?? 'the executor reported a failure without a reason'),
      result: result as unknown as Record<string, unknown>,
      ...toSubtaskEvidence(result),
    });
    const advanced = await advanceSubtasks(locked, deps);
    if (advanced.fails.length > 0) log.info('dependent subtasks failed without running', { failed: advanced.fails });
    if (advanced.published) log.info('code activity finished', { workId: locked.task.code?.workId });
    return { ...decision, published: advanced.published, waiting: advanced.waiting.map((w) => `${w.subtaskId}: ${w.reason}`) };
  });
  if (!outcome) {
    log.warn('subtask result for an unknown task ignored');
    return { action: 'unknown-task' };
  }
  const { waiting, ...recorded } = outcome;
  if (recorded.action === 'ignore') log.info('subtask result ignored', { reason: recorded.reason });
  else log.info('subtask result recorded', { status: recorded.status, waiting });
  const published = await publishUnacknowledgedWork(result.taskId, deps);
  if (published.length > 0) log.info('subtasks dispatched', { dispatched: published.map((d) => `${d.subtaskId}#${d.attempt}`) });
  if (isVerifiedSuccess(result)) deps.reflexes?.learnFrom(result.taskId, result.subtaskId);
  return { ...recorded, dispatched: published.map((d) => `${d.subtaskId}#${d.attempt}`) };
}
