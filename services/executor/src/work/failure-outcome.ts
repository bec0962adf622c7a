/**
 * The outcome of a failed attempt: an escalation to Orion with the evidence (the subtask's own
 * diff, its test runs), or a plain failed result when the task id cannot be a subject token.
 */
import type { AgentVerdict } from '@maestro/agent';
import type { SubtaskWork } from '@maestro/contracts';
import type { Logger } from '@maestro/runtime';
import { isSubjectToken, toEscalation, type PacketBudgets, type TestRunStep, type WorkOutcome } from '../domain/escalation.js';
import { MAX_FAILURE_REASON_CHARS, toSubtaskResult, truncate, type ResultOrigin } from '../domain/subtask-result.js';
import { gitDiffOf } from '../store/git-workspace.js';
import type { SubtaskWorktree } from '../store/worktree-manager.js';
import { filesChangedSince } from '../store/worktree-state.js';

/** What went wrong in an attempt, and the evidence. */
export interface AttemptFailure {
  verdict: AgentVerdict;
  worktree: SubtaskWorktree;
  /** What the subtask's own changes are measured against (where it started, or the tip it last merged). */
  diffBase: string;
  testRuns: readonly TestRunStep[];
  /**
   * Replaces the result's reason when the failure is the executor's finding (`not_committed: …`,
   * `merge_conflict: …`) rather than the loop's.
   */
  failureReason?: string;
}

/** Builds the outcome of a failed attempt. */
export async function toFailureOutcome(
  work: SubtaskWork,
  failure: AttemptFailure,
  origin: ResultOrigin,
  packetBudgets: PacketBudgets | undefined,
  log: Logger,
): Promise<WorkOutcome> {
  const { verdict, worktree, diffBase, testRuns, failureReason } = failure;
  // Only this subtask's files: its worktree against where it started (or the tip it merged).
  const filesChanged = await filesChangedSince(worktree.workspace, diffBase);
  const failed: AgentVerdict = { ...verdict, status: verdict.status === 'succeeded' ? 'failed' : verdict.status, filesChanged };
  const reason = failureReason === undefined ? {} : { failureReason: truncate(failureReason, MAX_FAILURE_REASON_CHARS) };
  if (!isSubjectToken(work.taskId)) return { ...toSubtaskResult(work, failed, origin), ...reason, worktree: worktree.path };
  // The agent failed: Orion decides what happens next, with the evidence.
  const diff = await gitDiffOf(worktree.workspace, diffBase, filesChanged);
  const escalation = toEscalation(work, failed, { diff, testRuns }, origin, packetBudgets);
  escalation.result = { ...escalation.result, ...reason, worktree: worktree.path };
  log.info('subtask escalated', { reason: escalation.packet.reason, failureReason: escalation.result.failureReason, diffChars: escalation.packet.lastDiff.length });
  return escalation;
}
