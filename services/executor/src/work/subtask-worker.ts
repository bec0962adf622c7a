/**
 * Handles one coding subtask from the executor work queue: idempotency first (a stored outcome
 * is re-published, never redone; a commit an earlier delivery merged is reported), then the
 * agent loop in the attempt's own git worktree of the task branch under the lock-manager's
 * write guard, then the merge queue (its commit into the task branch, conflicts back to the
 * agent), then the outcome, stored before it is published: the result, or, when the agent
 * failed (tests still red, stuck, out of budget, unreadable replies, work not committed, merge
 * conflicts it could not resolve), an escalation to Orion with the failure packet. Work of a task that has ended (cancelled, failed,
 * succeeded) is not started, and is stopped when its task ends while it runs. Probe work
 * (`kind: 'probe'`) takes the same path with nothing (or a sleep) in place of the agent loop.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createDefaultToolRegistry,
  runAgentLoop,
  type AgentStep,
  type AgentVerdict,
  type ToolRegistry,
} from '@maestro/agent';
import { HandBackError } from '@maestro/bus';
import type { SubtaskResult, SubtaskWork } from '@maestro/contracts';
import { gitDiffOf } from '../adapters/git-workspace.js';
import { runGit } from '../adapters/git-cli.js';
import { WorktreeManager, type SubtaskWorktree } from '../adapters/worktree-manager.js';
import { commitStateOf, filesBetween, filesChangedSince, uncommittedReason } from '../adapters/worktree-state.js';
import { exponentialBackoff, OperationalError, systemClock, toMaestroError, type Clock, type Logger } from '@maestro/runtime';
import { WorkspaceDefaults } from '../config.js';
import { KeyedMutex } from '../domain/keyed-mutex.js';
import { parseMergedRecord, type MergedRecord } from '../domain/merged-record.js';
import { MaestroRefs } from '../domain/worktree-layout.js';
import { MergeQueue } from './merge-queue.js';
import { WorktreeWriteGuard } from './worktree-write-guard.js';
import { EndedTasks, type FinalTaskStatus } from '../domain/ended-tasks.js';
import {
  isEscalation,
  isSubjectToken,
  resultOf,
  TASK_BUDGET_EXHAUSTED,
  toEscalation,
  type PacketBudgets,
  type TestRunStep,
  type WorkOutcome,
} from '../domain/escalation.js';
import type { ExecutorStats } from '../domain/executor-stats.js';
import type { SubtaskCollaborators, SubtaskWriteGuard, WorkPublisher, WorkResultStore } from '../domain/ports.js';
import { isProbe, toProbeResult } from '../domain/probe.js';
import {
  MAX_FAILURE_REASON_CHARS,
  toFailedResult,
  toSubtaskResult,
  toWorkFinishedEvent,
  toWorkStepEvent,
  truncate,
} from '../domain/subtask-result.js';
import { buildConflictTaskText, buildTaskText } from '../domain/task-text.js';
import { TransientFailureWatch } from '../domain/transient-model-failure.js';
import { extractWorkIdentity } from '../domain/work-identity.js';

/** What the transport hands the worker with each delivery. */
export interface WorkDelivery {
  /**
   * Tells JetStream the work is alive, restarting its ack wait. Called on every agent step;
   * the bus also sends it on a timer while the handler runs, covering a long single step.
   */
  working(): void;
  /** Aborted when the executor shuts down and in-flight work must be handed back. */
  signal?: AbortSignal;
}

/** Budgets of one agent loop. */
export interface SubtaskBudget {
  maxSteps: number;
  /** @default the agent's (600000) */
  maxWallMs?: number;
  /** @default the agent's (200000) */
  maxTokens?: number;
}

/** Options for {@link SubtaskWorker}. */
export interface SubtaskWorkerOptions extends SubtaskCollaborators {
  executorId: string;
  results: WorkResultStore;
  publisher: WorkPublisher;
  budget: SubtaskBudget;
  stats: ExecutorStats;
  logger: Logger;
  /** @default createDefaultToolRegistry() */
  tools?: ToolRegistry;
  /** @default the agent's system prompt */
  systemPrompt?: string;
  /**
   * Time for retries, result times and probe timing. When not given, probe pick-up times use
   * the sub-millisecond wall clock (`performance.timeOrigin + performance.now()`).
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Tasks known to have ended (fed by the executor's `task.updated` subscription): their work
   * is not started, and running work of theirs is stopped.
   * @default an empty registry nothing feeds (no task is ever seen to end)
   */
  endedTasks?: EndedTasks;
  /** Token budgets of the diff, test output and account in a failure packet. @default DefaultPacketBudgets */
  packetBudgets?: PacketBudgets;
  /** Worktrees, lock waits and merges. @default WorkspaceDefaults */
  workspace?: WorkspacePolicy;
}

/** Where attempts work and how long they wait for locks; each field defaults to {@link WorkspaceDefaults}. */
export interface WorkspacePolicy {
  /** Root of the executors' worktrees; this executor uses `<root>/<executorId>/`. */
  worktreeRoot?: string;
  /** How long a subtask waits for its declared concerns before the agent starts. */
  declaredLockWaitMs?: number;
  /** How long a merge waits for the repository's `git-index` concern. */
  mergeLockWaitMs?: number;
  /** Merges tried per attempt; a conflict before the last goes back to the agent. */
  mergeAttempts?: number;
}

/** A step event on its way: its number in the work item's sequence, and its publication. */
interface PublishedStep {
  index: number;
  done: Promise<void>;
}

/** Pause between attempts of a durable write. */
const durableWriteBackoff = exponentialBackoff({ baseMs: 500, maxMs: 30_000 });

/** Attempts of a durable write (KV put, result publish) before the work is handed back instead. */
const DURABLE_WRITE_ATTEMPTS = 3;

/**
 * Runs subtasks. Failure handling follows the bus's contract: a transient failure
 * (`OperationalError`: router or NATS unreachable, shutdown) is thrown so the work is nak'ed and
 * redelivered; anything else becomes a failed result, so the task is told rather than retried
 * into the dead-letter queue.
 */
export class SubtaskWorker {
  private readonly tools: ToolRegistry;
  private readonly clock: Clock;
  private readonly preciseNow: () => number;
  private readonly endedTasks: EndedTasks;
  private readonly policy: Required<WorkspacePolicy>;
  private readonly worktrees: WorktreeManager;
  private readonly mergeQueue: MergeQueue;

  constructor(private readonly options: SubtaskWorkerOptions) {
    this.policy = { ...WorkspaceDefaults, ...definedOnly(options.workspace ?? {}) };
    // One mutex for both, so git's administrative commands on a repository never race in this process.
    const mutex = new KeyedMutex();
    this.worktrees = new WorktreeManager({ root: this.policy.worktreeRoot, executorId: options.executorId, logger: options.logger, mutex });
    this.mergeQueue = new MergeQueue({ mutex, lockWaitMs: this.policy.mergeLockWaitMs });
    this.tools = options.tools ?? createDefaultToolRegistry();
    this.clock = options.clock ?? systemClock;
    this.endedTasks = options.endedTasks ?? new EndedTasks({ clock: this.clock });
    const clock = options.clock;
    this.preciseNow = clock !== undefined ? () => clock.now() : () => performance.timeOrigin + performance.now();
  }

  /**
   * Removes the worktrees an earlier process with this executor id left behind (a crash, a
   * kill). Call before any work runs: every worktree in this executor's directory is then an orphan.
   */
  async removeOrphanedWorktrees(): Promise<number> {
    return this.worktrees.removeOrphans(this.options.logger);
  }

  /** Handles one delivery of a work item and returns the outcome published for it (a result or an escalation). */
  async handle(work: SubtaskWork, delivery: WorkDelivery, logger: Logger = this.options.logger): Promise<WorkOutcome> {
    const log = logger.child({ workId: work.workId, taskId: work.taskId, subtaskId: work.subtaskId });
    const stored = await this.options.results.get(work.workId);
    if (stored !== undefined) {
      // Redelivered after the outcome was stored (a crash or a lost ack): tell again, never redo.
      log.info('work already finished; re-publishing its stored outcome', { ok: resultOf(stored).ok, escalated: isEscalation(stored) });
      await this.durably('publish result', () => this.publishOutcome(stored), log);
      return stored;
    }

    const { stats } = this.options;
    stats.started();
    try {
      const probe = isProbe(work);
      const result = probe ? await this.runProbe(work, delivery) : await this.run(work, delivery, log);
      // Probes are canaries: their record is the result and the event, not an info line each.
      await this.finish(result, log, probe ? 'debug' : 'info');
      return result;
    } finally {
      stats.ended();
    }
  }

  /**
   * Reports a dead-lettered work item (poison payload, too many deliveries) as a failed
   * result, so the task waiting for it moves on. A payload without work ids cannot be reported;
   * it stays in the dead-letter stream.
   */
  async handleDeadLetter(payloadOrRaw: unknown, reason: string): Promise<void> {
    const identity = extractWorkIdentity(payloadOrRaw);
    if (identity === undefined) {
      this.options.logger.error('dead-lettered work has no work ids; no result can be published', { reason });
      return;
    }
    const log = this.options.logger.child({ workId: identity.workId, taskId: identity.taskId, subtaskId: identity.subtaskId });
    let stored: WorkOutcome | undefined;
    try {
      stored = await this.options.results.get(identity.workId);
    } catch (err) {
      // A corrupt or unreadable record must not stop the task from hearing of the failure.
      log.warn('stored result unreadable; publishing a failed result', { error: toMaestroError(err).message });
    }
    if (stored !== undefined) {
      log.info('dead-lettered work had a stored outcome; re-publishing it', { reason, ok: resultOf(stored).ok, escalated: isEscalation(stored) });
      await this.durably('publish result', () => this.publishOutcome(stored), log);
      return;
    }
    log.warn('work dead-lettered; publishing a failed result', { reason });
    await this.finish(toFailedResult(identity, `work dead-lettered: ${reason}`, this.origin()), log);
  }

  private async run(work: SubtaskWork, delivery: WorkDelivery, log: Logger): Promise<WorkOutcome> {
    // Watched from before the first await, so an end heard at any point is caught. A task that
    // ended gets a failed result, never a hand-back: nobody waits for the work any more, and
    // redelivering it would only start it again somewhere else.
    let ended: FinalTaskStatus | undefined;
    const taskEnded = new AbortController();
    const stopWatching = this.endedTasks.watch(work.taskId, (status) => {
      ended = status;
      taskEnded.abort(new Error(`task ${work.taskId} ended (${status})`));
    });
    try {
      if (ended !== undefined) return this.notStarted(work, ended, log);
      const problem = await repositoryProblem(work.repoPath);
      if (problem !== undefined) {
        log.warn('subtask cannot run', { repoPath: work.repoPath, problem });
        return toFailedResult(work, problem, this.origin());
      }
      if (ended !== undefined) return this.notStarted(work, ended, log);
      const merged = await this.mergedEarlier(work, log);
      if (merged !== undefined) return merged;
      const signal = delivery.signal !== undefined ? AbortSignal.any([delivery.signal, taskEnded.signal]) : taskEnded.signal;
      return await this.runAgent(work, delivery, signal, () => ended, log);
    } finally {
      stopWatching();
    }
  }

  /** The failed result of a subtask whose task ended before it started; the agent never runs. */
  private notStarted(work: SubtaskWork, status: FinalTaskStatus, log: Logger): SubtaskResult {
    log.info('task already ended; subtask not started', { status });
    return toFailedResult(work, `task ${work.taskId} ended (${status}) before this subtask started`, this.origin());
  }

  /** The failed result of a subtask stopped because its task ended while it ran. */
  private stopped(work: SubtaskWork, status: FinalTaskStatus, log: Logger): SubtaskResult {
    log.info('task ended while the subtask ran; stopped it', { status });
    return toFailedResult(work, `task ${work.taskId} ended (${status}) while this subtask ran; stopped`, this.origin());
  }

  /**
   * The agent loop in the attempt's own worktree under `signal` (shutdown or the task's end),
   * then the merge of its commit into the task branch (with the agent resolving conflicts, up to
   * `mergeAttempts` merges). `endedStatus` tells which of the two stopped it: the task's end
   * gives a failed result, shutdown a hand-back. The worktree is removed whatever the ending.
   */
  private async runAgent(
    work: SubtaskWork,
    delivery: WorkDelivery,
    signal: AbortSignal,
    endedStatus: () => FinalTaskStatus | undefined,
    log: Logger,
  ): Promise<WorkOutcome> {
    // Steps of the worker (locks, merges) and of each agent run, numbered in one sequence.
    let nextStep = 0;
    const publish = (step: Omit<AgentStep, 'index'>): PublishedStep => {
      const index = nextStep++;
      return { index, done: this.onStep(work, { ...step, index }, delivery, log) };
    };
    const report = (step: Omit<AgentStep, 'index'>): Promise<void> => publish(step).done;
    const guard = this.options.createWriteGuard(work, {
      onGranted: (grant) => {
        log.info('lease granted', { concerns: grant.concerns, fencingToken: grant.fencingToken, waitedMs: grant.waitedMs });
        void report({ kind: 'tool', tool: 'locks', summary: `locked ${grant.concerns.join(', ')} (fencing token ${grant.fencingToken}) after waiting ${grant.waitedMs} ms`, ok: true });
      },
    });
    let worktree: SubtaskWorktree | undefined;
    let keepUnfinished = false;
    try {
      try {
        worktree = await this.worktrees.open(work, log);
      } catch (err) {
        const error = toMaestroError(err);
        if (error instanceof OperationalError) throw error;
        log.warn('worktree not created; subtask cannot run', { err: error });
        return toFailedResult(work, `worktree not created (${error.code}): ${error.message}`, this.origin());
      }
      keepUnfinished = true;
      const outcome = await this.runInWorktree(work, worktree, guard, delivery, signal, endedStatus, publish, log);
      keepUnfinished = !resultOf(outcome).ok;
      return outcome;
    } catch (err) {
      const status = endedStatus();
      if (status !== undefined) {
        keepUnfinished = false;
        return this.stopped(work, status, log);
      }
      if (delivery.signal?.aborted) throw handedBack(err);
      const error = toMaestroError(err);
      if (error instanceof OperationalError) {
        log.warn('subtask hit a transient failure; handing it back for redelivery', { code: error.code, err: error });
        throw error;
      }
      log.error('agent loop failed', { code: error.code, err: error });
      return { ...toFailedResult(work, `agent loop error (${error.code}): ${error.message}`, this.origin()), ...(worktree ? { worktree: worktree.path } : {}) };
    } finally {
      if (worktree !== undefined) {
        // A task that ended keeps nothing: nobody will attempt the subtask again.
        if (keepUnfinished && endedStatus() === undefined) await this.worktrees.keepUnfinished(worktree, work, log);
        await this.worktrees.close(worktree, log);
      }
      await guard.release();
    }
  }

  /**
   * Declared concerns, the agent loop, the commit check and the merge queue, in the worktree.
   * Returns the outcome; throws a hand-back or transient failure for the caller to sort out.
   */
  private async runInWorktree(
    work: SubtaskWork,
    worktree: SubtaskWorktree,
    guard: SubtaskWriteGuard,
    delivery: WorkDelivery,
    signal: AbortSignal,
    endedStatus: () => FinalTaskStatus | undefined,
    publish: (step: Omit<AgentStep, 'index'>) => PublishedStep,
    log: Logger,
  ): Promise<WorkOutcome> {
    const report = (step: Omit<AgentStep, 'index'>): Promise<void> => publish(step).done;
    const declared = work.concerns ?? [];
    if (declared.length > 0) {
      log.info('waiting for the declared concerns', { concerns: declared, waitMs: this.policy.declaredLockWaitMs });
      await report({ kind: 'tool', tool: 'locks', summary: `waiting up to ${this.policy.declaredLockWaitMs} ms for the declared concerns ${declared.join(', ')}`, ok: true });
      await guard.hold([...declared], this.policy.declaredLockWaitMs);
    }
    const model = new TransientFailureWatch(this.options.createModel(work));
    const testRuns: TestRunStep[] = [];
    const writeGuard = new WorktreeWriteGuard(guard, { worktreeRoot: worktree.path, repoRoot: worktree.repoRoot });
    log.info('subtask started', { worktree: worktree.path, maxSteps: this.options.budget.maxSteps, role: work.role ?? 'tactical', hinted: work.hint !== undefined, carried: worktree.carried });
    let task = buildTaskText(work);
    // Where the current run started (its work must be committed on top of it), and what the
    // subtask's own changes are measured against (the task branch tip it last merged).
    let start = worktree.base;
    let diffBase = worktree.base;
    let total: Pick<AgentVerdict, 'steps' | 'usage'> = { steps: 0, usage: { inputTokens: 0, outputTokens: 0 } };
    for (let mergeAttempt = 1; ; mergeAttempt++) {
      const ran = await runAgentLoop({
        model,
        tools: this.tools,
        workspace: worktree.workspace,
        ...(this.options.systemPrompt !== undefined ? { systemPrompt: this.options.systemPrompt } : {}),
        task,
        testCommand: work.testCommand,
        // Tests preflight found failing before anyone worked are not this agent's failures.
        ...(work.baselineFailures !== undefined ? { baselineFailures: work.baselineFailures } : {}),
        budget: this.options.budget,
        writeGuard,
        signal,
        onStep: (step) => {
          const { index, done } = publish(step);
          if (step.kind === 'tool' && step.tool === 'tests') testRuns.push({ step: index, summary: step.summary, ok: step.ok });
          return done;
        },
      });
      total = { steps: total.steps + ran.steps, usage: { inputTokens: total.usage.inputTokens + ran.usage.inputTokens, outputTokens: total.usage.outputTokens + ran.usage.outputTokens } };
      const verdict: AgentVerdict = { ...ran, ...total };
      const status = endedStatus();
      if (status !== undefined) return this.stopped(work, status, log);
      // A loop cut short by shutdown has no honest verdict; the next executor starts it again.
      if (delivery.signal?.aborted) throw handedBack(undefined);
      // The router refuses calls once the task's budget is spent: no strategic decision can help,
      // so the subtask fails plainly, with the code in its reason, and Orion fails the task.
      const refusal = model.failure;
      if (verdict.status === 'failed' && refusal?.code === TASK_BUDGET_EXHAUSTED) {
        log.info('task budget exhausted; subtask failed without escalation', { error: refusal.message });
        const files = await filesChangedSince(worktree.workspace, diffBase);
        return {
          ...toSubtaskResult(work, { ...verdict, filesChanged: files }, this.origin()),
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
      if (verdict.status !== 'succeeded') return this.failed(work, verdict, worktree, diffBase, testRuns, undefined, log);

      // Never succeeded without its commit.
      const state = await commitStateOf(worktree.path);
      const notCommitted = uncommittedReason(state, start);
      if (notCommitted !== undefined) {
        log.info('agent succeeded but its work is not committed', { reason: notCommitted });
        await report({ kind: 'tool', tool: 'merge', summary: `not merged: ${notCommitted}`, ok: false });
        return this.failed(work, { ...verdict, status: 'failed', reason: notCommitted }, worktree, diffBase, testRuns, `not_committed: ${notCommitted}`, log);
      }

      const merge = await this.mergeQueue.merge(worktree, work, guard, log);
      if (merge.kind === 'merged') {
        await report({ kind: 'tool', tool: 'merge', summary: `merged into ${merge.branch} at ${merge.sha}`, ok: true });
        await this.worktrees.dropCarried(worktree.repoRoot, work);
        const filesChanged = await filesBetween(worktree.workspace, merge.previous, merge.sha);
        log.info('subtask finished', { status: verdict.status, steps: verdict.steps, commitSha: merge.sha, branch: merge.branch });
        return {
          ...toSubtaskResult(work, { ...verdict, filesChanged }, this.origin()),
          commitSha: merge.sha,
          merged: { branch: merge.branch, sha: merge.sha },
          worktree: worktree.path,
        };
      }
      const conflict = `the subtask's commit conflicts with the task branch ${worktree.branch} in ${merge.files.join(', ')}`;
      await report({ kind: 'tool', tool: 'merge', summary: `merge conflict (attempt ${mergeAttempt} of ${this.policy.mergeAttempts}): ${merge.files.join(', ')}`, ok: false });
      if (mergeAttempt >= this.policy.mergeAttempts) {
        const reason = `${conflict} after ${mergeAttempt} merge attempt${mergeAttempt === 1 ? '' : 's'}`;
        log.info('merge conflicts remain; escalating', { files: merge.files, mergeAttempt });
        return this.failed(work, { ...verdict, status: 'failed', reason }, worktree, diffBase, testRuns, `merge_conflict: ${reason}`, log);
      }
      // Back to the agent, in the middle of the merge, with the conflict as its task.
      start = state.head ?? start;
      diffBase = merge.tip;
      const files = await this.mergeQueue.startConflictedMerge(worktree, merge.tip);
      log.info('merge conflict handed to the agent', { files, tip: merge.tip, mergeAttempt });
      task = buildConflictTaskText(work, worktree.branch, files.length > 0 ? files : merge.files);
    }
  }

  /**
   * The outcome of a failed attempt: an escalation with the evidence (a plain failed result when
   * the task id cannot be a subject token). `failureReason` replaces the result's reason when the
   * failure is the executor's finding (`not_committed: …`, `merge_conflict: …`) rather than the loop's.
   */
  private async failed(
    work: SubtaskWork,
    verdict: AgentVerdict,
    worktree: SubtaskWorktree,
    diffBase: string,
    testRuns: readonly TestRunStep[],
    failureReason: string | undefined,
    log: Logger,
  ): Promise<WorkOutcome> {
    // Only this subtask's files: its worktree against where it started (or the tip it merged).
    const filesChanged = await filesChangedSince(worktree.workspace, diffBase);
    const failed: AgentVerdict = { ...verdict, status: verdict.status === 'succeeded' ? 'failed' : verdict.status, filesChanged };
    const reason = failureReason === undefined ? {} : { failureReason: truncate(failureReason, MAX_FAILURE_REASON_CHARS) };
    if (!isSubjectToken(work.taskId)) return { ...toSubtaskResult(work, failed, this.origin()), ...reason, worktree: worktree.path };
    // The agent failed: Orion decides what happens next, with the evidence.
    const diff = await gitDiffOf(worktree.workspace, diffBase, filesChanged);
    const escalation = toEscalation(work, failed, { diff, testRuns }, this.origin(), this.options.packetBudgets);
    escalation.result = { ...escalation.result, ...reason, worktree: worktree.path };
    log.info('subtask escalated', { reason: escalation.packet.reason, failureReason: escalation.result.failureReason, diffChars: escalation.packet.lastDiff.length });
    return escalation;
  }

  /**
   * The result of a work item whose commit an earlier delivery already merged (its outcome was
   * never stored: the executor died in between), from the record the merge left; undefined when
   * there is none. The work is not redone.
   */
  private async mergedEarlier(work: SubtaskWork, log: Logger): Promise<SubtaskResult | undefined> {
    const record = await readMergedRecord(work);
    if (record === undefined) return undefined;
    log.info('work already merged by an earlier delivery; reporting its commit', { branch: record.branch, sha: record.sha });
    const filesChanged = await filesBetween(work.repoPath, record.previous, record.sha);
    return {
      workId: work.workId,
      taskId: work.taskId,
      runId: work.runId,
      subtaskId: work.subtaskId,
      attempt: work.attempt,
      ok: true,
      summary: `merged into ${record.branch} at ${record.sha} by an earlier delivery of this work item (its outcome was not stored); not redone`,
      filesChanged,
      commitSha: record.sha,
      merged: { branch: record.branch, sha: record.sha },
      executorId: this.options.executorId,
      steps: 0,
      finishedAt: this.origin().finishedAt,
    };
  }

  /**
   * A probe's "work": nothing, or a sleep of `probeWorkMs` (cut short, and handed back, by
   * shutdown). It never builds a model or a write guard and never looks at `repoPath`.
   */
  private async runProbe(work: SubtaskWork, delivery: WorkDelivery): Promise<SubtaskResult> {
    const startedAt = this.preciseNow();
    if (work.probeFail === true) {
      // The poison item for drills: retryable every time, so it walks the whole nak/backoff
      // path to the dead-letter subject.
      throw new OperationalError('PROBE_FAILED', 'probe work asked to fail (probeFail: true)');
    }
    const workMs = work.probeWorkMs ?? 0;
    if (workMs > 0) await this.sleepUnlessAborted(workMs, delivery.signal);
    if (delivery.signal?.aborted) throw handedBack(undefined);
    return toProbeResult(work, { startedAt }, this.origin());
  }

  /** Sleeps on the clock, returning early when the signal aborts. */
  private async sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) return this.clock.sleep(ms);
    if (signal.aborted) return;
    if (this.options.clock === undefined) {
      // The wall clock: a timer the signal cancels, so none is left behind on shutdown.
      await sleep(ms, undefined, { signal }).catch(() => undefined);
      return;
    }
    let onAbort: (() => void) | undefined;
    await Promise.race([
      this.clock.sleep(ms),
      new Promise<void>((resolve) => {
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }

  private async onStep(work: SubtaskWork, step: AgentStep, delivery: WorkDelivery, log: Logger): Promise<void> {
    delivery.working();
    const event = toWorkStepEvent(work, step, this.options.executorId, new Date(this.clock.now()).toISOString());
    try {
      await this.options.publisher.publishStep(event);
    } catch (err) {
      // Step events are for watchers; losing one must not fail the subtask.
      log.warn('work step event not published', { step: step.index, error: toMaestroError(err).message });
    }
  }

  /** Stores, then publishes: a crash in between is healed by the redelivery finding the stored outcome. */
  private async finish(outcome: WorkOutcome, log: Logger, level: 'info' | 'debug' = 'info'): Promise<void> {
    const result = resultOf(outcome);
    await this.durably('store result', () => this.options.results.put(outcome), log);
    await this.durably('publish result', () => this.publishOutcome(outcome), log);
    this.options.stats.recorded(result.ok);
    try {
      await this.options.publisher.publishFinished(toWorkFinishedEvent(result));
    } catch (err) {
      log.warn('work finished event not published', { error: toMaestroError(err).message });
    }
    log[level](isEscalation(outcome) ? 'escalation published' : 'result published', { ok: result.ok, failureReason: result.failureReason });
  }

  /** A result goes to the results queue; an escalation to Orion's escalations queue instead. */
  private publishOutcome(outcome: WorkOutcome): Promise<void> {
    return isEscalation(outcome) ? this.options.publisher.publishEscalation(outcome) : this.options.publisher.publishResult(outcome);
  }

  /** Retries a write the task depends on a few times before giving up (and having the work nak'ed). */
  private async durably(what: string, write: () => Promise<void>, log: Logger): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (err) {
        const error = toMaestroError(err);
        if (attempt >= DURABLE_WRITE_ATTEMPTS) {
          throw error instanceof OperationalError
            ? error
            : new OperationalError('RESULT_NOT_DELIVERED', `could not ${what}: ${error.message}`, { cause: err });
        }
        log.warn(`could not ${what}; retrying`, { attempt, error: error.message });
        await this.clock.sleep(durableWriteBackoff(attempt));
      }
    }
  }

  private origin() {
    return { executorId: this.options.executorId, finishedAt: new Date(this.clock.now()).toISOString() };
  }
}

/** Why a subtask's repository cannot be worked in, or undefined when it can. */
async function repositoryProblem(repoPath: string): Promise<string | undefined> {
  if (!isAbsolute(repoPath)) return `repoPath must be an absolute path, got "${repoPath}"`;
  try {
    const info = await stat(repoPath);
    if (!info.isDirectory()) return `repoPath ${repoPath} is not a directory`;
  } catch {
    return `repoPath ${repoPath} does not exist on this executor (is the repository volume mounted?)`;
  }
  return undefined;
}

function handedBack(cause: unknown): HandBackError {
  return new HandBackError('subtask interrupted by executor shutdown; handed back for redelivery', { cause });
}

/** The record an earlier delivery's merge left for this work item, if any. */
async function readMergedRecord(work: SubtaskWork): Promise<MergedRecord | undefined> {
  const blob = await runGit(work.repoPath, ['cat-file', 'blob', MaestroRefs.merged(work.taskId, work.workId)]);
  return blob.code === 0 ? parseMergedRecord(blob.stdout) : undefined;
}

/** `options` without its undefined fields, so spreading it over defaults keeps them. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
