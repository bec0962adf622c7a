/**
 * A failed agent run becomes an escalation for Orion rather than a plain failed result: the
 * failure packet (what the agent did, how it ended, the diff, the failing tests, what it spent)
 * goes to the strategic model, which decides what happens next. Pure functions, so the packet's
 * shape and trimming are tested without a model, a repository or a server.
 */
import type { AgentVerdict } from '@maestro/agent';
import { FailureKinds, type Escalation, type FailureKind, type SubtaskResult, type SubtaskWork } from '@maestro/contracts';
import { countTokens } from '@maestro/llm';
import { toSubtaskResult, type ResultOrigin } from './subtask-result.js';

/**
 * What finishing a work item produced: its result, or (for an agent that failed) an escalation.
 * Both are stored under the work id and re-published on a redelivery.
 */
export type WorkOutcome = SubtaskResult | Escalation;

/** True for an escalation (it has an `escalationId`; a result never does). */
export function isEscalation(outcome: WorkOutcome): outcome is Escalation {
  return 'escalationId' in outcome;
}

/** The failed result an outcome stands for (an escalation carries one). */
export function resultOf(outcome: WorkOutcome): SubtaskResult {
  return isEscalation(outcome) ? outcome.result : outcome;
}

/**
 * Error code with which the router refuses a completion because the *task's* budget is spent.
 * Not the agent's failure and not something a strategic decision can fix: the subtask fails
 * plainly with the code in its reason, so Orion fails the task.
 */
export const TASK_BUDGET_EXHAUSTED = 'BUDGET_EXHAUSTED';

/** Token budgets of the long texts in a failure packet. */
export interface PacketBudgets {
  /** Tokens of failing test output kept (its end). @default 1500 */
  testOutputTokens?: number;
  /** Tokens of the diff kept (its start). @default 3000 */
  diffTokens?: number;
  /** Tokens of the agent's own account kept (its start). @default 600 */
  accountTokens?: number;
}

/** The defaults of {@link PacketBudgets}. */
export const DefaultPacketBudgets: Required<PacketBudgets> = { testOutputTokens: 1_500, diffTokens: 3_000, accountTokens: 600 };

/**
 * Texts longer than this many characters are cut before counting tokens (a token is at least
 * one character, so nothing that fits the budget is lost; counting a huge text would be slow).
 */
const CHARS_PER_TOKEN_CEILING = 16;

/**
 * Keeps the part of `text` that fits in `maxTokens` (`o200k_base`): its end for `tail` (where
 * test runners report failures), its start for `head`. A cut is marked with `…`.
 */
export function trimToTokens(text: string, maxTokens: number, keep: 'head' | 'tail'): string {
  if (maxTokens <= 0 || text === '') return '';
  if (countTokens(text) <= maxTokens) return text;
  const ceiling = maxTokens * CHARS_PER_TOKEN_CEILING;
  const source = text.length <= ceiling ? text : keep === 'tail' ? text.slice(text.length - ceiling) : text.slice(0, ceiling);
  const take = (n: number): string => (keep === 'tail' ? source.slice(source.length - n) : source.slice(0, n));
  // The longest cut that fits, by binary search on its length (one token left for the mark).
  let low = 0;
  let high = source.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countTokens(take(mid)) <= maxTokens - 1) low = mid;
    else high = mid - 1;
  }
  const kept = take(low);
  return keep === 'tail' ? `…${kept}` : `${kept}…`;
}

// How the agent loop words its stuck verdicts (packages/agent/src/agent-loop.ts).
const UNREADABLE_REPLY = 'an unreadable reply';
const DECLARED_DONE = /declar(ed|ing) done/;

/**
 * Why the agent failed, from its verdict: stuck on replies that never parsed is `unparseable`,
 * stuck declaring done over red tests is `tests_failed`, other loops `stuck`; an exhausted budget
 * is `budget_exhausted` whatever the tests said (the packet carries their output anyway).
 */
export function classifyFailure(verdict: Pick<AgentVerdict, 'status' | 'reason' | 'tests'>): FailureKind {
  const reason = verdict.reason ?? '';
  switch (verdict.status) {
    case 'stuck':
      if (reason.includes(UNREADABLE_REPLY)) return FailureKinds.unparseable;
      if (DECLARED_DONE.test(reason) && verdict.tests?.passed === false) return FailureKinds.testsFailed;
      return FailureKinds.stuck;
    case 'budget_exhausted':
      return FailureKinds.budgetExhausted;
    default:
      return verdict.tests?.passed === false ? FailureKinds.testsFailed : FailureKinds.failed;
  }
}

/** One test run the agent asked for by declaring the work done. */
export interface TestRunStep {
  step: number;
  summary: string;
  ok: boolean;
}

/** What the worker gathered besides the verdict. */
export interface FailureEvidence {
  /** `git diff` of the agent's files against where it started (untrimmed). */
  diff: string;
  /** The loop's test runs, in order. */
  testRuns: readonly TestRunStep[];
}

/**
 * True when the task id can be one token of a NATS subject (`maestro.escalations.<taskId>`).
 * Orion's task ids are UUIDs; work from elsewhere (probes, tools) may use anything.
 */
export function isSubjectToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,256}$/.test(value);
}

/**
 * The escalation of a failed run: the packet for the strategic model and the failed result it
 * stands for (`escalationId` = the work id, so duplicates are recognised).
 */
export function toEscalation(
  work: SubtaskWork,
  verdict: AgentVerdict,
  evidence: FailureEvidence,
  origin: ResultOrigin,
  budgets: PacketBudgets = {},
): Escalation {
  const limits = { ...DefaultPacketBudgets, ...budgets };
  const result = toSubtaskResult(work, verdict, origin);
  const account = [verdict.summary.trim(), verdict.reason ? `(${verdict.status}: ${verdict.reason.trim()})` : `(${verdict.status})`]
    .filter((part) => part !== '')
    .join(' ');
  const failingTests = verdict.tests !== undefined && !verdict.tests.passed ? verdict.tests.outputTail : '';
  return {
    escalationId: work.workId,
    taskId: work.taskId,
    runId: work.runId,
    subtaskId: work.subtaskId,
    attempt: work.attempt,
    executorId: origin.executorId,
    raisedAt: origin.finishedAt,
    packet: {
      reason: classifyFailure(verdict),
      subtask: {
        title: work.title,
        instructions: work.instructions,
        files: [...work.files],
        ...(work.hint !== undefined && work.hint.trim() !== '' ? { hint: work.hint } : {}),
      },
      attempts: evidence.testRuns.map((run) => ({ step: run.step, summary: run.summary, ok: run.ok })),
      steps: verdict.steps,
      lastDiff: trimToTokens(evidence.diff, limits.diffTokens, 'head'),
      failingTestOutput: trimToTokens(failingTests, limits.testOutputTokens, 'tail'),
      agentAccount: trimToTokens(account, limits.accountTokens, 'head'),
      filesChanged: [...verdict.filesChanged],
      tokensSpent: { input: verdict.usage.inputTokens, output: verdict.usage.outputTokens },
    },
    result,
  };
}
