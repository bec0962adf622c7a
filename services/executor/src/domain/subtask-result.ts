/**
 * Mapping from what the agent loop reports to what crosses the bus: the `SubtaskResult` the
 * orchestrator waits for, the `work.finished` event and the `work.step` events people watch.
 * Pure functions, so the wire shapes are tested without a model or a server.
 */
import type { AgentStep, AgentVerdict } from '@maestro/agent';
import { WorkStepLimits, type SubtaskResult, type SubtaskWork, type WorkFinishedEvent, type WorkStepEvent } from '@maestro/contracts';
import { cutEnd, cutMiddle } from '@maestro/runtime';

/** Longest step summary put on the bus; the full text stays in the agent's conversation. */
export const MAX_STEP_SUMMARY_CHARS = 500;

/** Longest test output tail kept in a result; enough for the failing assertion. */
export const MAX_TEST_OUTPUT_CHARS = 4_000;

/** Failing test names kept from the failed run a success recovered from (`recoveredFrom`). */
export const MAX_RECOVERED_TESTS = 20;

/** Longest failure reason kept in a result. */
export const MAX_FAILURE_REASON_CHARS = 2_000;

/** Who produced a result, and when. */
export interface ResultOrigin {
  executorId: string;
  /** ISO-8601 time the subtask finished. */
  finishedAt: string;
}

/**
 * The result of a subtask from the agent's verdict: ok only when the loop succeeded (its tests
 * passed); otherwise `failureReason` starts with the verdict status (`stuck: …`,
 * `budget_exhausted: …`) so the orchestrator can tell a stuck agent from red tests. A success
 * whose tests failed first carries that failed run (`recoveredFrom`, bounded).
 */
export function toSubtaskResult(work: SubtaskWork, verdict: AgentVerdict, origin: ResultOrigin): SubtaskResult {
  const ok = verdict.status === 'succeeded';
  const result: SubtaskResult = {
    ...workIdentity(work),
    ok,
    summary: verdict.summary,
    filesChanged: [...verdict.filesChanged],
    steps: verdict.steps,
    executorId: origin.executorId,
    finishedAt: origin.finishedAt,
  };
  if (verdict.commitSha !== undefined && verdict.commitSha.length > 0) result.commitSha = verdict.commitSha;
  if (verdict.tests !== undefined) {
    result.tests = {
      command: [...verdict.tests.command],
      exitCode: verdict.tests.exitCode,
      passed: verdict.tests.passed,
      outputTail: tail(verdict.tests.outputTail, MAX_TEST_OUTPUT_CHARS),
    };
  }
  // Only a success can have recovered; its first failed run is the evidence Orion learns from.
  if (ok && verdict.tests?.passed === true && verdict.recoveredFrom !== undefined) {
    result.recoveredFrom = {
      failingTests: verdict.recoveredFrom.failingTests.slice(0, MAX_RECOVERED_TESTS),
      outputTail: tail(verdict.recoveredFrom.outputTail, MAX_TEST_OUTPUT_CHARS),
      exitCode: verdict.recoveredFrom.exitCode,
    };
  }
  if (!ok) {
    const why = verdict.reason?.trim() || verdict.summary.trim() || 'no reason given';
    result.failureReason = truncate(`${verdict.status}: ${why}`, MAX_FAILURE_REASON_CHARS);
  }
  return result;
}

/**
 * A failed result for work that could not be run at all (dead-lettered, bad repository path,
 * an error the loop could not turn into a verdict), so the task waiting on it does not hang.
 */
export function toFailedResult(
  work: Pick<SubtaskWork, 'workId' | 'taskId' | 'runId' | 'subtaskId' | 'attempt'>,
  reason: string,
  origin: ResultOrigin,
): SubtaskResult {
  const failureReason = truncate(reason.trim() || 'no reason given', MAX_FAILURE_REASON_CHARS);
  return {
    ...workIdentity(work),
    ok: false,
    summary: `subtask not completed: ${truncate(failureReason, 200)}`,
    filesChanged: [],
    failureReason,
    executorId: origin.executorId,
    steps: 0,
    finishedAt: origin.finishedAt,
  };
}

/** The `maestro.events.work.finished` payload for a result. */
export function toWorkFinishedEvent(result: SubtaskResult): WorkFinishedEvent {
  const event: WorkFinishedEvent = {
    taskId: result.taskId,
    runId: result.runId,
    subtaskId: result.subtaskId,
    attempt: result.attempt,
    ok: result.ok,
    summary: result.summary,
    filesChanged: result.filesChanged,
    executorId: result.executorId,
    finishedAt: result.finishedAt,
  };
  if (result.commitSha !== undefined) event.commitSha = result.commitSha;
  if (result.failureReason !== undefined) event.failureReason = result.failureReason;
  return event;
}

/**
 * The `maestro.events.work.step` payload for one agent step, its summary truncated; a `recall`
 * step carries the memories that went into the prompt and a `condensation` step what it did, as
 * the loop reported them (both already bounded by the loop: the memories by its prompt budget); a
 * `model` step its call (who answered, tokens, cost); a `tool` step its arguments and
 * observation, cut to {@link WorkStepLimits} with a marker; any step how long it took.
 */
export function toWorkStepEvent(
  work: Pick<SubtaskWork, 'taskId' | 'runId' | 'subtaskId' | 'attempt'>,
  step: AgentStep,
  executorId: string,
  at: string,
): WorkStepEvent {
  const event: WorkStepEvent = {
    taskId: work.taskId,
    runId: work.runId,
    subtaskId: work.subtaskId,
    executorId,
    attempt: work.attempt,
    step: Math.max(0, Math.trunc(step.index)),
    kind: step.kind,
    summary: truncate(step.summary, MAX_STEP_SUMMARY_CHARS),
    ok: step.ok,
    at,
  };
  if (step.tool !== undefined) event.tool = step.tool;
  if (step.recalled !== undefined) event.recalled = step.recalled.map((memory) => ({ ...memory }));
  if (step.condensation !== undefined) event.condensation = { ...step.condensation, dropped: [...step.condensation.dropped] };
  if (step.modelCall !== undefined) event.modelCall = { ...step.modelCall };
  if (step.durationMs !== undefined && Number.isFinite(step.durationMs)) event.durationMs = Math.max(0, Math.round(step.durationMs));
  if (step.arguments !== undefined) event.arguments = cutEnd(step.arguments, WorkStepLimits.argumentsChars);
  if (step.observation !== undefined) event.observation = cutMiddle(step.observation, WorkStepLimits.observationChars);
  if (step.flags !== undefined && step.flags.length > 0) event.flags = step.flags.slice(0, 8);
  return event;
}

/** The fields that say which work item (and attempt) a result or event is about. */
export function workIdentity(work: Pick<SubtaskWork, 'workId' | 'taskId' | 'runId' | 'subtaskId' | 'attempt'>) {
  return { workId: work.workId, taskId: work.taskId, runId: work.runId, subtaskId: work.subtaskId, attempt: work.attempt };
}

/** Keeps the start of a text, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Keeps the end of a text (where test failures are reported), marking the cut. */
export function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}
