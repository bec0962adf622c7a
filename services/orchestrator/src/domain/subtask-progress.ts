/**
 * The rules of the `code` fan-out: which subtasks a code activity request dispatches (through the
 * scheduler, `concern-schedule.ts`), whether an executor's result counts, and the `code` state's
 * ActivityResult once every subtask is final. Pure functions over records, so at-least-once delivery (duplicates, stale attempts,
 * redelivered requests) is decided in one testable place.
 */
import type { ActivityResult, SubtaskResult } from '@maestro/contracts';
import { scheduleSubtasks, type ScheduledFailure, type ScheduledWait } from './concern-schedule.js';
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

/** What the scheduler leads to after something changed: dispatches, failures, and whether the fan-out is over. */
export interface NextDispatch {
  /** New attempts to record as running, then publish. */
  dispatches: SubtaskDispatch[];
  /** Pending subtasks that fail without running (a dependency failed). */
  fails: ScheduledFailure[];
  /** Pending subtasks that keep waiting, with what for. */
  waiting: ScheduledWait[];
  /** True when, after the failures, every subtask is final: the `code` result can be published. */
  allFinal: boolean;
}

/**
 * Runs the scheduler (`concern-schedule.ts`) over the subtasks as they stand: every pending
 * subtask whose turn has come gets a new attempt (its attempt + 1), those whose dependency
 * failed fail. Re-running it on the same subtasks after its decisions were recorded decides
 * nothing new, which is what makes a redelivered result or escalation dispatch nothing twice.
 */
export function planNextDispatch(subtasks: readonly SubtaskRecord[]): NextDispatch {
  const schedule = scheduleSubtasks(subtasks);
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const dispatches = schedule.dispatch.map((id) => ({ subtaskId: id, attempt: (byId.get(id)?.attempt ?? 0) + 1, isNew: true }));
  const failing = new Set(schedule.fail.map((f) => f.subtaskId));
  const allFinal = dispatches.length === 0 && subtasks.every((s) => failing.has(s.id) || isFinalSubtaskStatus(s.status));
  return { dispatches, fails: schedule.fail, waiting: schedule.waiting, allFinal };
}

/** What a `code` activity request leads to. */
export interface CodeDispatchPlan extends NextDispatch {
  /**
   * Subtasks a new request puts back to waiting (`pending`) before scheduling: every one that
   * did not succeed (or was replaced), so they start again as their turn comes.
   */
  resets: string[];
  /** Attempts recorded earlier that the stream never acknowledged, to publish again (a repeated request). */
  republish: SubtaskDispatch[];
}

/**
 * Decides the dispatches for a `code` request.
 *
 * A repeat of the request being served (a redelivery, or the engine republishing it when it
 * restarts, possibly long after JetStream's duplicate window) publishes again only what the
 * stream has not acknowledged yet: running subtasks whose attempt was recorded but not marked
 * dispatched (the publish failed or Orion died first). A dispatched attempt is on the queue or
 * with an executor, and an executor that dies gets it redelivered by JetStream, so publishing
 * it again would only start a second executor on a subtask still in progress. Then the
 * scheduler runs as it would after any change, which starts nothing it started already.
 *
 * A new request (first, or the engine retrying the state) puts every subtask that has not
 * succeeded back to waiting and schedules them all; succeeded subtasks keep their commits.
 */
export function planCodeDispatch(task: TaskRecord, subtasks: readonly SubtaskRecord[], request: CodeActivityRef): CodeDispatchPlan {
  const repeat = task.code?.workId === request.workId;
  const resets = repeat ? [] : subtasks.filter((s) => s.status === 'running' || s.status === 'failed').map((s) => s.id);
  const view = subtasks.map((s) => (resets.includes(s.id) ? { ...s, status: 'pending' as const } : s));
  const republish = repeat ? unacknowledgedAttempts(view) : [];
  return { resets, republish, ...planNextDispatch(view) };
}

/** Running attempts the stream has not acknowledged yet: what a repeat must publish again. */
export function unacknowledgedAttempts(subtasks: readonly SubtaskRecord[]): SubtaskDispatch[] {
  return subtasks
    .filter((s) => s.status === 'running' && s.attempt > 0 && s.dispatchedAttempt !== s.attempt)
    .map((s) => ({ subtaskId: s.id, attempt: s.attempt, isNew: false }));
}

/** Whether an executor's result is recorded. */
export type SubtaskResultDecision = { action: 'ignore'; reason: string } | { action: 'record'; status: 'succeeded' | 'failed' };

/**
 * Decides what to do with a subtask result. Results of another run, unknown subtasks, stale
 * attempts, subtasks waiting for their next attempt and subtasks that already have their result
 * are ignored (acked, not recorded), so a duplicate delivery can never publish the `code`
 * result twice, nor dispatch anything twice.
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
  if (subtask.status === 'pending') {
    return { action: 'ignore', reason: `the subtask waits for its next attempt; attempt ${result.attempt} was superseded` };
  }
  return { action: 'record', status: result.ok ? 'succeeded' : 'failed' };
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
