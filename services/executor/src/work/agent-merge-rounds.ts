/**
 * The agent's part of an attempt, in its worktree: the declared concerns, the recall of what
 * memory knows about the work (`subtask-recall.ts`), then rounds of agent loop → commit check →
 * merge queue. A merge conflict before the last merge attempt goes back
 * to the agent (the worktree left in the middle of the merge, the conflict as its task); a
 * verdict other than success, uncommitted work, or conflicts past the last attempt become a
 * failure outcome (escalation). The task's end gives a stopped result; shutdown, a lost work
 * lease and transient model failures are thrown for the caller to hand back.
 */
import { CommandPolicyErrorCodes, ModelSummariser, runAgentLoop, type AgentVerdict, type ChatModel, type CommandPolicy, type Sandbox, type ToolRegistry } from '@maestro/agent';
import type { SubtaskWork } from '@maestro/contracts';
import { UnexpectedError, UserError, type Logger, type Redactor } from '@maestro/runtime';
import type { FinalTaskStatus } from '../domain/ended-tasks.js';
import { TASK_BUDGET_EXHAUSTED, type PacketBudgets, type TestRunStep, type WorkOutcome } from '../domain/escalation.js';
import type { SubtaskWriteGuard } from '../domain/ports.js';
import { MAX_FAILURE_REASON_CHARS, toSubtaskResult, truncate, type ResultOrigin } from '../domain/subtask-result.js';
import { toStoppedResult } from '../domain/task-end-results.js';
import { buildConflictTaskText, buildTaskText } from '../domain/task-text.js';
import { TransientFailureWatch } from '../domain/transient-model-failure.js';
import type { WorktreeManager, SubtaskWorktree } from '../store/worktree-manager.js';
import { commitStateOf, filesBetween, filesChangedSince, uncommittedReason } from '../store/worktree-state.js';
import { toFailureOutcome } from './failure-outcome.js';
import type { MergeQueue } from './merge-queue.js';
import type { StepReporter } from './step-reporter.js';
import { recallForSubtask, type SubtaskRecallSettings } from './subtask-recall.js';
import { WorktreeWriteGuard } from './worktree-write-guard.js';

/** Who summarises older turns when an agent's context is condensed. */
export type SummariserChoice = 'rule' | 'model';

/** Budgets of one agent loop. */
export interface SubtaskBudget {
  maxSteps: number;
  /** @default the agent's (600000) */
  maxWallMs?: number;
  /** @default the agent's (200000) */
  maxTokens?: number;
}

/** What every attempt of this executor shares. */
export interface AgentRoundsSettings {
  tools: ToolRegistry;
  /** The policy the test command must pass before the agent starts (the orchestrator checked it too). */
  commandPolicy: CommandPolicy;
  systemPrompt?: string;
  budget: SubtaskBudget;
  createModel(work: SubtaskWork): ChatModel;
  /** How long the declared concerns are waited for before the agent starts. */
  declaredLockWaitMs: number;
  /** Merges tried per attempt. */
  mergeAttempts: number;
  mergeQueue: MergeQueue;
  worktrees: WorktreeManager;
  packetBudgets?: PacketBudgets;
  /** Where memories come from. @default none: agents work without recalled memories */
  recall?: SubtaskRecallSettings;
  /**
   * Who summarises older turns when the agent's context is condensed: the rule, or the subtask's
   * own model (its tokens count in the subtask's usage and budget). @default 'rule'
   */
  summariser?: SummariserChoice;
  /** Takes secrets out of what the agent sends to the model and reports (see `RunAgentLoopOptions.redactor`). @default none */
  redactor?: Redactor;
  /** Confines the agent's `exec` and the test gate (the worktree their only writable place). @default none: unsandboxed */
  sandbox?: Sandbox;
  origin(): ResultOrigin;
}

/** One attempt, in its worktree. */
export interface AgentRoundsAttempt {
  work: SubtaskWork;
  worktree: SubtaskWorktree;
  guard: SubtaskWriteGuard;
  /** Aborted by shutdown, the task's end or the loss of the work lease. */
  signal: AbortSignal;
  /** The task's final status once it ended, else undefined. */
  endedStatus(): FinalTaskStatus | undefined;
  /** Throws (a hand-back) when the attempt must stop without an outcome: shutdown, the work lease lost. */
  assertMayContinue(): void;
  /** Just before a merge: throws when the work lease is gone (another attempt took the work over). */
  confirmWorkLease(): Promise<void>;
  steps: StepReporter;
  log: Logger;
}

/**
 * Runs the agent and merges its commit; returns the outcome. Throws a hand-back or transient
 * failure for the caller to sort out.
 */
export async function runAgentMergeRounds(settings: AgentRoundsSettings, attempt: AgentRoundsAttempt): Promise<WorkOutcome> {
  const { work, worktree, guard, signal, steps, log } = attempt;
  assertTestCommandAllowed(work.testCommand, settings.commandPolicy);
  const declared = work.concerns ?? [];
  if (declared.length > 0) {
    log.info('waiting for the declared concerns', { concerns: declared, waitMs: settings.declaredLockWaitMs });
    await steps.report({ kind: 'tool', tool: 'locks', summary: `waiting up to ${settings.declaredLockWaitMs} ms for the declared concerns ${declared.join(', ')}`, ok: true });
    await guard.hold([...declared], settings.declaredLockWaitMs);
  }
  // Once per attempt: a conflict round goes back to the same agent with the same notes.
  const recalled = await recallForSubtask(settings.recall, work, { signal, steps, log });
  const model = new TransientFailureWatch(settings.createModel(work));
  const testRuns: TestRunStep[] = [];
  const writeGuard = new WorktreeWriteGuard(guard, { worktreeRoot: worktree.path, repoRoot: worktree.repoRoot });
  log.info('subtask started', { worktree: worktree.path, maxSteps: settings.budget.maxSteps, role: work.role ?? 'tactical', hinted: work.hint !== undefined, carried: worktree.carried });
  let task = buildTaskText(work);
  // Where the current run started (its work must be committed on top of it), and what the
  // subtask's own changes are measured against (the task branch tip it last merged).
  let start = worktree.base;
  let diffBase = worktree.base;
  let total: Pick<AgentVerdict, 'steps' | 'usage'> = { steps: 0, usage: { inputTokens: 0, outputTokens: 0 } };
  // The first failed test run of any round; a merge-conflict round that passes at once keeps it.
  let recoveredFrom: AgentVerdict['recoveredFrom'];
  const failed = (verdict: AgentVerdict, failureReason?: string) =>
    toFailureOutcome(work, { verdict, worktree, diffBase, testRuns, ...(failureReason !== undefined ? { failureReason } : {}) }, settings.origin(), settings.packetBudgets, log);
  for (let mergeAttempt = 1; ; mergeAttempt++) {
    const ran = await runAgentLoop({
      model,
      tools: settings.tools,
      workspace: worktree.workspace,
      ...(settings.systemPrompt !== undefined ? { systemPrompt: settings.systemPrompt } : {}),
      task,
      testCommand: work.testCommand,
      // Tests preflight found failing before anyone worked are not this agent's failures.
      ...(work.baselineFailures !== undefined ? { baselineFailures: work.baselineFailures } : {}),
      ...(work.baselineExitCode !== undefined ? { baselineExitCode: work.baselineExitCode } : {}),
      memories: recalled,
      ...(settings.summariser === 'model' ? { context: { summariser: new ModelSummariser(model) } } : {}),
      pinnedFiles: work.files,
      budget: settings.budget,
      ...(settings.redactor !== undefined ? { redactor: settings.redactor } : {}),
      ...(settings.sandbox !== undefined ? { sandbox: settings.sandbox, worktree: worktree.path } : {}),
      writeGuard,
      signal,
      onStep: (step) => {
        const { index, done } = steps.publish(step);
        if (step.kind === 'tool' && step.tool === 'tests') testRuns.push({ step: index, summary: step.summary, ok: step.ok });
        return done;
      },
    });
    total = { steps: total.steps + ran.steps, usage: { inputTokens: total.usage.inputTokens + ran.usage.inputTokens, outputTokens: total.usage.outputTokens + ran.usage.outputTokens } };
    recoveredFrom ??= ran.recoveredFrom;
    const verdict: AgentVerdict = { ...ran, ...total, ...(recoveredFrom !== undefined ? { recoveredFrom } : {}) };
    const status = attempt.endedStatus();
    if (status !== undefined) {
      log.info('task ended while the subtask ran; stopped it', { status });
      return toStoppedResult(work, status, settings.origin());
    }
    // A loop cut short by shutdown (or a lost work lease) has no honest verdict; the next executor starts it again.
    attempt.assertMayContinue();
    // The router refuses calls once the task's budget is spent: no strategic decision can help,
    // so the subtask fails plainly, with the code in its reason, and Orion fails the task.
    const refusal = model.failure;
    if (verdict.status === 'failed' && refusal?.code === TASK_BUDGET_EXHAUSTED) {
      log.info('task budget exhausted; subtask failed without escalation', { error: refusal.message });
      const files = await filesChangedSince(worktree.workspace, diffBase);
      return {
        ...toSubtaskResult(work, { ...verdict, filesChanged: files }, settings.origin()),
        failureReason: truncate(`${TASK_BUDGET_EXHAUSTED}: ${refusal.message}`, MAX_FAILURE_REASON_CHARS),
        worktree: worktree.path,
      };
    }
    // The loop ends a run whose model call failed with a `failed` verdict; when that failure was
    // transient (router unreachable) the subtask did not fail, the infrastructure did: hand it back.
    const transient = model.transientFailure;
    if (verdict.status === 'failed' && transient !== undefined) {
      log.warn('model unreachable; handing the subtask back for redelivery', { code: transient.code, error: transient.message });
      throw transient;
    }
    log.info('agent loop finished', { status: verdict.status, steps: verdict.steps, commitSha: verdict.commitSha, mergeAttempt });
    if (verdict.status !== 'succeeded') return failed(verdict);

    // Never succeeded without its commit.
    const state = await commitStateOf(worktree.path);
    const notCommitted = uncommittedReason(state, start);
    if (notCommitted !== undefined) {
      log.info('agent succeeded but its work is not committed', { reason: notCommitted });
      await steps.report({ kind: 'tool', tool: 'merge', summary: `not merged: ${notCommitted}`, ok: false });
      return failed({ ...verdict, status: 'failed', reason: notCommitted }, `not_committed: ${notCommitted}`);
    }

    await attempt.confirmWorkLease();
    const merge = await settings.mergeQueue.merge(worktree, work, guard, log, signal);
    if (merge.kind === 'stopped') {
      const ended = attempt.endedStatus();
      if (ended !== undefined) {
        log.info('task ended while the subtask waited to merge; not merged', { status: ended });
        return toStoppedResult(work, ended, settings.origin());
      }
      attempt.assertMayContinue();
      throw new UnexpectedError('MERGE_STOPPED', 'the merge was stopped but the attempt may continue; this is a bug');
    }
    if (merge.kind === 'merged') {
      await steps.report({ kind: 'tool', tool: 'merge', summary: `merged into ${merge.branch} at ${merge.sha}`, ok: true });
      await settings.worktrees.dropCarried(worktree.repoRoot, work);
      const filesChanged = await filesBetween(worktree.workspace, merge.previous, merge.sha);
      log.info('subtask finished', { status: verdict.status, steps: verdict.steps, commitSha: merge.sha, branch: merge.branch });
      return {
        ...toSubtaskResult(work, { ...verdict, filesChanged }, settings.origin()),
        commitSha: merge.sha,
        merged: { branch: merge.branch, sha: merge.sha },
        worktree: worktree.path,
      };
    }
    const conflict = `the subtask's commit conflicts with the task branch ${worktree.branch} in ${merge.files.join(', ')}`;
    await steps.report({ kind: 'tool', tool: 'merge', summary: `merge conflict (attempt ${mergeAttempt} of ${settings.mergeAttempts}): ${merge.files.join(', ')}`, ok: false });
    if (mergeAttempt >= settings.mergeAttempts) {
      const reason = `${conflict} after ${mergeAttempt} merge attempt${mergeAttempt === 1 ? '' : 's'}`;
      log.info('merge conflicts remain; escalating', { files: merge.files, mergeAttempt });
      return failed({ ...verdict, status: 'failed', reason }, `merge_conflict: ${reason}`);
    }
    // Back to the agent, in the middle of the merge, with the conflict as its task.
    start = state.head ?? start;
    diffBase = merge.tip;
    const files = await settings.mergeQueue.startConflictedMerge(worktree, merge.tip);
    log.info('merge conflict handed to the agent', { files, tip: merge.tip, mergeAttempt });
    task = buildConflictTaskText(work, worktree.branch, files.length > 0 ? files : merge.files);
  }
}

/**
 * The test gate's own check of the test command (defence in depth: SubmitTask refuses it first).
 * A refusal fails the subtask, with the rule and reason, before any worktree command runs.
 */
export function assertTestCommandAllowed(testCommand: readonly string[], policy: CommandPolicy): void {
  if (testCommand.length === 0) return;
  const decision = policy.evaluate(testCommand);
  if (decision.decision === 'allow') return;
  throw new UserError(
    CommandPolicyErrorCodes.COMMAND_DENIED,
    `the test command ${JSON.stringify(testCommand)} is refused by the command policy (rule ${decision.rule}): ${decision.reason}`,
  );
}
