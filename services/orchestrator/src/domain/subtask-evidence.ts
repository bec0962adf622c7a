/**
 * What the task view shows of a subtask's last attempt besides its outcome: the executor that ran
 * it, the worktree it ran in and the test gate's verdict, taken from the executor's result
 * (`SubtaskResult`, also inside an escalation).
 */
import type { SubtaskResult } from '@maestro/contracts';

/** The executor, worktree and verdict of one attempt; null when the result does not say. */
export interface SubtaskEvidence {
  executorId: string | null;
  worktree: string | null;
  verdict: string | null;
}

/**
 * The test gate's verdict in one line: `passed: npm test exited 0`, `failed: npm test exited 1`,
 * or `failed: npm test did not exit (killed or timed out)`; null when the attempt ran no tests.
 * Migration `0012_subtask_evidence` fills older rows with the same words.
 */
export function toVerdict(tests: SubtaskResult['tests']): string | null {
  if (tests === undefined) return null;
  const command = tests.command.join(' ');
  const ended = tests.exitCode === null ? 'did not exit (killed or timed out)' : `exited ${tests.exitCode}`;
  return `${tests.passed ? 'passed' : 'failed'}: ${command} ${ended}`;
}

/** The evidence a result carries (empty strings count as not said). */
export function toSubtaskEvidence(result: Pick<SubtaskResult, 'executorId' | 'worktree' | 'tests'>): SubtaskEvidence {
  return {
    executorId: result.executorId === '' ? null : result.executorId,
    worktree: result.worktree === undefined || result.worktree === '' ? null : result.worktree,
    verdict: toVerdict(result.tests),
  };
}
