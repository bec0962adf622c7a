/**
 * The rules of the `code` fan-out: which subtasks a code activity request dispatches, whether
 * an executor's result counts, and the `code` state's ActivityResult once every subtask is
 * final. Pure functions over records, so at-least-once delivery (duplicates, stale attempts,
 * redelivered requests) is decided in one testable place.
 */
import type { ActivityResult, SubtaskResult } from '@maestro/contracts';
import type { EscalationListing } from './escalations.js';
import { isFinalSubtaskStatus, type CodeActivityRef, type SubtaskRecord, type TaskRecord } from './task.js';

/** Error code of a `code` activity in which at least one subtask failed. */
export const SUBTASKS_FAILED = 'SUBTASKS_FAILED';

/** The work id of one dispatch of one subtask; also its JetStream message id. */
export function subtaskWorkId(taskId: string, subtaskId: string, attempt: number): string {
  return `${taskId}:${subtaskId}:${attempt}`;
}

/** One subtask to (re)publish as `SubtaskWork`. */
export interface SubtaskDispatch {
  subtaskId: string;
  attempt: number;
  /** True when this dispatch starts a new attempt (the store must record it). */
  isNew: boolean;
}

/** What a `code` activity request leads to. */
export interface CodeDispatchPlan {
  /** Subtasks to publish; a repeated request republishes only attempts never acknowledged. */
  dispatches: SubtaskDispatch[];
  /** True when every subtask is already final, so the result can be published now. */
  allFinal: boolean;
}

/**
 * Decides the dispatches for a `code` request.
 *
 * A repeat of the request being served (a redelivery, or the engine republishing it when it
 * restarts, possibly long after JetStream's duplicate window) publishes only what the stream
 * has not acknowledged yet: subtasks whose current attempt was recorded but not marked
 * dispatched (the publish failed or Orion died first). A dispatched attempt is on the queue or
 * with an executor, and an executor that dies gets it redelivered by JetStream, so publishing
 * it again would only start a second executor on a subtask still in progress.
 *
 * A new request (first, or the engine retrying the state) starts a new attempt of every
 * subtask that has not succeeded; succeeded subtasks keep their commits.
 */
export function planCodeDispatch(task: TaskRecord, subtasks: readonly SubtaskRecord[], request: CodeActivityRef): CodeDispatchPlan {
  const repeat = task.code?.workId === request.workId;
  const dispatches: SubtaskDispatch[] = [];
  for (const subtask of subtasks) {
    if (repeat) {
      if (subtask.attempt === 0) {
        dispatches.push({ subtaskId: subtask.id, attempt: 1, isNew: true });
      } else if (!isFinalSubtaskStatus(subtask.status) && subtask.dispatchedAttempt !== subtask.attempt) {
        dispatches.push({ subtaskId: subtask.id, attempt: subtask.attempt, isNew: false });
      }
    } else if (subtask.status !== 'succeeded' && subtask.status !== 'replaced') {
      dispatches.push({ subtaskId: subtask.id, attempt: subtask.attempt + 1, isNew: true });
    }
  }
  const pending = new Set(dispatches.map((d) => d.subtaskId));
  const allFinal = subtasks.every((s) => !pending.has(s.id) && isFinalSubtaskStatus(s.status));
  return { dispatches, allFinal };
}

/** Whether an executor's result is recorded, and whether it completes the fan-out. */
export type SubtaskResultDecision =
  | { action: 'ignore'; reason: string }
  | { action: 'record'; status: 'succeeded' | 'failed'; completesCode: boolean };

/**
 * Decides what to do with a subtask result. Results of another run, unknown subtasks, stale
 * attempts and subtasks that already have their result are ignored (acked, not recorded), so a
 * duplicate delivery can never publish the `code` result twice.
 */
export function decideSubtaskResult(
  task: TaskRecord,
  subtasks: readonly SubtaskRecord[],
  result: Pick<SubtaskResult, 'runId' | 'subtaskId' | 'attempt' | 'ok'>,
): SubtaskResultDecision {
  if (!task.code) return { action: 'ignore', reason: 'no code activity has been dispatched for this task' };
  if (result.runId !== task.code.runId) {
    return { action: 'ignore', reason: `result belongs to run ${result.runId}, the task's code run is ${task.code.runId}` };
  }
  const subtask = subtasks.find((s) => s.id === result.subtaskId);
  if (!subtask) return { action: 'ignore', reason: `the task has no subtask ${result.subtaskId}` };
  if (subtask.attempt !== result.attempt) {
    return { action: 'ignore', reason: `stale attempt ${result.attempt}; the subtask is on attempt ${subtask.attempt}` };
  }
  if (isFinalSubtaskStatus(subtask.status)) return { action: 'ignore', reason: `the subtask already ${subtask.status} (duplicate result)` };
  const completesCode = subtasks.every((s) => s.id === subtask.id || isFinalSubtaskStatus(s.status));
  return { action: 'record', status: result.ok ? 'succeeded' : 'failed', completesCode };
}

/**
 * The `code` state's output: each subtask's outcome, for the review and the run's context, and the
 * escalations of its subtasks with their decisions (when there were any).
 */
export function codeActivityOutput(subtasks: readonly SubtaskRecord[], escalations: readonly EscalationListing[] = []): Record<string, unknown> {
  return {
    ...(escalations.length > 0
      ? {
          escalations: escalations.map((e) => ({
            subtaskId: e.subtaskId,
            attempt: e.attempt,
            reason: e.reason,
            decision: e.decision,
            decisionReason: e.decisionReason,
            ...(e.hint !== undefined ? { hint: e.hint } : {}),
            ...(e.subtasks !== undefined ? { subtasks: e.subtasks } : {}),
          })),
        }
      : {}),
    subtasks: subtasks.map((s) => ({
      id: s.id,
      title: s.title,
      status: s.status,
      attempt: s.attempt,
      summary: s.summary ?? '',
      commitSha: s.commitSha ?? '',
      filesChanged: s.filesChanged,
      ...(s.failureReason ? { failureReason: s.failureReason } : {}),
    })),
  };
}

/**
 * The `code` state's ActivityResult once every subtask is final: ok only when all succeeded
 * (subtasks a re-plan replaced do not count); otherwise the error lists each failed subtask with
 * its reason.
 */
export function buildCodeActivityResult(
  code: CodeActivityRef,
  subtasks: readonly SubtaskRecord[],
  finishedAt: string,
  escalations: readonly EscalationListing[] = [],
): ActivityResult {
  const counted = subtasks.filter((s) => s.status !== 'replaced');
  const failed = counted.filter((s) => s.status !== 'succeeded');
  const base = codeResultBase(code, subtasks, finishedAt, escalations);
  if (failed.length === 0) return { ...base, ok: true };
  const reasons = failed.map((s) => `${s.id} (${s.title}): ${s.failureReason ?? s.summary ?? `ended ${s.status}`}`);
  return {
    ...base,
    ok: false,
    error: { code: SUBTASKS_FAILED, message: `${failed.length} of ${counted.length} subtasks failed: ${reasons.join('; ')}` },
  };
}

/** Error code of a `code` activity the strategic model abandoned after an escalation. */
export const TASK_ABANDONED = 'TASK_ABANDONED';

/**
 * The `code` state's failed ActivityResult when the strategic model abandons the task after an
 * escalation of `subtask`: published at once, without waiting for the other subtasks, so the
 * task fails with the model's reason (and executors stop its remaining work).
 */
export function buildAbandonedCodeResult(
  code: CodeActivityRef,
  subtasks: readonly SubtaskRecord[],
  subtask: Pick<SubtaskRecord, 'id' | 'title'>,
  reason: string,
  finishedAt: string,
  escalations: readonly EscalationListing[] = [],
): ActivityResult {
  return {
    ...codeResultBase(code, subtasks, finishedAt, escalations),
    ok: false,
    error: { code: TASK_ABANDONED, message: `Orion abandoned the task after subtask ${subtask.id} (${subtask.title}) escalated: ${reason}` },
  };
}

function codeResultBase(
  code: CodeActivityRef,
  subtasks: readonly SubtaskRecord[],
  finishedAt: string,
  escalations: readonly EscalationListing[],
): Omit<ActivityResult, 'ok'> {
  return {
    workId: code.workId,
    runId: code.runId,
    state: code.state,
    activity: code.activity,
    attempt: code.attempt,
    output: codeActivityOutput(subtasks, escalations),
    finishedAt,
  };
}
