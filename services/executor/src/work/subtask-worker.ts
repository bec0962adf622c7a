/**
 * Handles one delivery of a work item from the executor work queue: idempotency first (a stored
 * outcome is re-published, never redone; a commit an earlier delivery merged is reported), then
 * the attempt in its own worktree (`worktree-attempt.ts`: the agent and merge rounds of
 * `agent-merge-rounds.ts`), then the outcome, stored before it is published
 * (`outcome-recorder.ts`). Work of a task that has ended is not started, and is stopped when its
 * task ends while it runs. Probe work (`kind: 'probe'`, `probe-runner.ts`) takes the same path
 * with nothing (or a sleep) in place of the agent loop. Dead-lettered work is reported failed.
 */
import { performance } from 'node:perf_hooks';
import { createExecTool, createToolRegistry, defaultCommandPolicy, defaultTools, type CommandPolicy, type Sandbox, type ToolRegistry } from '@maestro/agent';
import type { SubtaskWork } from '@maestro/contracts';
import { KeyedMutex, ownerTenant, systemClock, toMaestroError, type Clock, type Logger, type Redactor, type TenantRepoRoots } from '@maestro/runtime';
import { WorkspaceDefaults } from '../config.js';
import { EndedTasks, type FinalTaskStatus } from '../domain/ended-tasks.js';
import { isEscalation, resultOf, type PacketBudgets, type WorkOutcome } from '../domain/escalation.js';
import type { ExecutorStats } from '../domain/executor-stats.js';
import type { SubtaskCollaborators, WorkLease, WorkPublisher, WorkResultStore } from '../domain/ports.js';
import { isProbe } from '../domain/probe.js';
import { toFailedResult, type ResultOrigin } from '../domain/subtask-result.js';
import { toNotStartedResult } from '../domain/task-end-results.js';
import { extractWorkIdentity } from '../domain/work-identity.js';
import { repositoryProblem } from '../store/repository-check.js';
import { checkRepositoryIntake } from '../store/repository-intake.js';
import { WorktreeManager } from '../store/worktree-manager.js';
import type { SubtaskBudget, SummariserChoice } from './agent-merge-rounds.js';
import { MergeQueue } from './merge-queue.js';
import { mergedEarlier } from './merged-earlier.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { runProbe } from './probe-runner.js';
import { StepOutbox, type StepOutboxCounts, type StepOutboxOptions } from './step-outbox.js';
import { StepReporter } from './step-reporter.js';
import type { SubtaskRecallSettings } from './subtask-recall.js';
import { handedBack, type WorkDelivery } from './work-delivery.js';
import { runWorktreeAttempt, type WorktreeAttemptSettings } from './worktree-attempt.js';

export type { SubtaskBudget } from './agent-merge-rounds.js';
export type { WorkDelivery } from './work-delivery.js';

/** Options for {@link SubtaskWorker}. */
export interface SubtaskWorkerOptions extends SubtaskCollaborators {
  executorId: string;
  results: WorkResultStore;
  publisher: WorkPublisher;
  budget: SubtaskBudget;
  stats: ExecutorStats;
  logger: Logger;
  /** @default the default tools, `exec` under `commandPolicy` */
  tools?: ToolRegistry;
  /**
   * What the agent's `exec` (with the default tools) and the test gate may run.
   * @default defaultCommandPolicy
   */
  commandPolicy?: CommandPolicy;
  /** @default the agent's system prompt */
  systemPrompt?: string;
  /**
   * Real paths of the directories repositories must live in (`MAESTRO_REPO_ROOTS`). Work whose
   * repository's real path is outside them, checked right before the worktree is made, fails
   * with `REPO_OUTSIDE_ROOTS`; an empty list refuses every repository. Required: where
   * repositories may live is always a decision.
   */
  repoRoots: readonly string[];
  /**
   * Each tenant's roots within `repoRoots` (`MAESTRO_TENANT_REPO_ROOTS`). When any are given,
   * work whose repository is outside its tenant's roots (work without a tenant is `default`'s),
   * or whose tenant has no entry, fails with `REPO_OUTSIDE_TENANT_ROOTS`.
   * @default [] (every tenant shares `repoRoots`)
   */
  tenantRepoRoots?: readonly TenantRepoRoots[];
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
  /** Recalling memories for each subtask. @default none: agents work without recalled memories */
  recall?: SubtaskRecallSettings;
  /** Who summarises older turns when an agent's context is condensed. @default 'rule' */
  summariser?: SummariserChoice;
  /** Takes secrets out of what agents send to models and report as steps and verdicts. @default none */
  redactor?: Redactor;
  /** Confines the agents' `exec` and the test gate (see `createSandboxFromSettings` in @maestro/agent). @default none: unsandboxed */
  sandbox?: Sandbox;
  /** The step outbox's bound, retry pauses, attempt limit and drop listener. @default StepOutboxDefaults */
  stepOutbox?: Pick<StepOutboxOptions, 'capacity' | 'retryBaseMs' | 'retryMaxMs' | 'maxAttempts' | 'onDropped'>;
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
  /** Untracked repository paths (installed dependencies) linked into each worktree. */
  worktreeLinks?: readonly string[];
}

/**
 * Runs subtasks. Failure handling follows the bus's contract: a transient failure
 * (`OperationalError`: router or NATS unreachable, shutdown) is thrown so the work is nak'ed and
 * redelivered; anything else becomes a failed result, so the task is told rather than retried
 * into the dead-letter queue.
 */
export class SubtaskWorker {
  private readonly clock: Clock;
  private readonly preciseNow: () => number;
  private readonly endedTasks: EndedTasks;
  private readonly worktrees: WorktreeManager;
  private readonly outcomes: OutcomeRecorder;
  private readonly attempts: WorktreeAttemptSettings;
  private readonly steps: StepOutbox;

  constructor(private readonly options: SubtaskWorkerOptions) {
    const policy = { ...WorkspaceDefaults, ...definedOnly(options.workspace ?? {}) };
    const commandPolicy = options.commandPolicy ?? defaultCommandPolicy;
    // One mutex for both, so git's administrative commands on a repository never race in this process.
    const mutex = new KeyedMutex();
    this.clock = options.clock ?? systemClock;
    this.worktrees = new WorktreeManager({ root: policy.worktreeRoot, executorId: options.executorId, logger: options.logger, mutex, links: policy.worktreeLinks, clock: this.clock });
    this.endedTasks = options.endedTasks ?? new EndedTasks({ clock: this.clock });
    const clock = options.clock;
    this.preciseNow = clock !== undefined ? () => clock.now() : () => performance.timeOrigin + performance.now();
    this.steps = new StepOutbox({ ...options.stepOutbox, publisher: options.publisher, clock: this.clock, logger: options.logger.child({ component: 'step-outbox' }) });
    this.outcomes = new OutcomeRecorder({ results: options.results, publisher: options.publisher, stats: options.stats, clock: this.clock });
    this.attempts = {
      tools: options.tools ?? createToolRegistry(defaultTools.map((tool) => (tool.name === 'exec' ? createExecTool(commandPolicy) : tool))),
      commandPolicy,
      ...(options.systemPrompt !== undefined ? { systemPrompt: options.systemPrompt } : {}),
      budget: options.budget,
      createModel: (work) => options.createModel(work),
      createWriteGuard: (work, events) => options.createWriteGuard(work, events),
      declaredLockWaitMs: policy.declaredLockWaitMs,
      mergeAttempts: policy.mergeAttempts,
      mergeQueue: new MergeQueue({ mutex, lockWaitMs: policy.mergeLockWaitMs, clock: this.clock }),
      worktrees: this.worktrees,
      ...(options.packetBudgets !== undefined ? { packetBudgets: options.packetBudgets } : {}),
      ...(options.recall !== undefined ? { recall: options.recall } : {}),
      ...(options.summariser !== undefined ? { summariser: options.summariser } : {}),
      ...(options.redactor !== undefined ? { redactor: options.redactor } : {}),
      ...(options.sandbox !== undefined ? { sandbox: options.sandbox } : {}),
      origin: () => this.origin(),
    };
  }

  /**
   * Removes the worktrees an earlier process with this executor id left behind (a crash, a
   * kill), then those of dead executors of this host that ran with the default id
   * `<hostname>-<pid>`. Call before any work runs: every worktree in this executor's directory
   * is then an orphan.
   */
  async removeOrphanedWorktrees(): Promise<number> {
    const own = await this.worktrees.removeOrphans(this.options.logger);
    return own + (await this.worktrees.removeDeadExecutors(this.options.logger));
  }

  /** Handles one delivery of a work item and returns the outcome published for it (a result or an escalation). */
  async handle(work: SubtaskWork, delivery: WorkDelivery, logger: Logger = this.options.logger): Promise<WorkOutcome> {
    const log = logger.child({ workId: work.workId, taskId: work.taskId, subtaskId: work.subtaskId });
    const stored = await this.outcomes.stored(work.workId);
    if (stored !== undefined) {
      // Redelivered after the outcome was stored (a crash or a lost ack): tell again, never redo.
      log.info('work already finished; re-publishing its stored outcome', { ok: resultOf(stored).ok, escalated: isEscalation(stored) });
      await this.outcomes.republish(stored, log);
      return stored;
    }

    const { stats } = this.options;
    stats.started();
    try {
      const probe = isProbe(work);
      const ran = probe
        ? await runProbe(work, delivery, { clock: this.clock, preciseNow: this.preciseNow, origin: () => this.origin() })
        : await this.run(work, delivery, log);
      if ('republished' in ran) return ran.republished;
      await this.stepsFlushed(work, delivery, log);
      // Probes are canaries: their record is the result and the event, not an info line each.
      await this.outcomes.finish(ran, log, probe ? 'debug' : 'info');
      return ran;
    } finally {
      stats.ended();
    }
  }

  /** How many steps wait in the outbox, were published and were dropped. */
  stepCounts(): StepOutboxCounts {
    return this.steps.counts();
  }

  /** Stops publishing steps (shutdown, after in-flight work settled); see `StepOutbox.close`. */
  close(): void {
    this.steps.close();
  }

  /**
   * Waits until every step of the work item is published (or dropped and logged), so the
   * subtask's history is complete before its outcome ends it. A shutdown while NATS is away
   * hands the work back instead: the steps stay queued, and the next delivery finds the merge
   * record (or redoes the work).
   */
  private async stepsFlushed(work: SubtaskWork, delivery: WorkDelivery, log: Logger): Promise<void> {
    const { pending } = this.steps.counts();
    if (pending > 0) log.debug('waiting for the step outbox before the outcome', { pending });
    try {
      await this.steps.flushed(work.workId, delivery.signal);
    } catch (err) {
      throw handedBack(err, 'executor shutting down before the subtask\'s steps were published; handed back');
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
      stored = await this.outcomes.stored(identity.workId);
    } catch (err) {
      // A corrupt or unreadable record must not stop the task from hearing of the failure.
      log.warn('stored result unreadable; publishing a failed result', { err });
    }
    if (stored !== undefined) {
      log.info('dead-lettered work had a stored outcome; re-publishing it', { reason, ok: resultOf(stored).ok, escalated: isEscalation(stored) });
      await this.outcomes.republish(stored, log);
      return;
    }
    log.warn('work dead-lettered; publishing a failed result', { reason });
    await this.outcomes.finish(toFailedResult(identity, `work dead-lettered: ${reason}`, this.origin()), log);
  }

  /** Runs a coding subtask; `republished` when an earlier holder of its lease had finished it (stored and published again already). */
  private async run(work: SubtaskWork, delivery: WorkDelivery, log: Logger): Promise<WorkOutcome | { republished: WorkOutcome }> {
    // Watched from before the first await, so an end heard at any point is caught. A task that
    // ended gets a failed result, never a hand-back: nobody waits for the work any more, and
    // redelivering it would only start it again somewhere else.
    let ended: FinalTaskStatus | undefined;
    const taskEnded = new AbortController();
    let lease: WorkLease | undefined;
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
      // Before any git command of ours runs there: the roots again (a link swapped since
      // SubmitTask leads nowhere new) and no filter, merge or diff driver in its config.
      // Work published before tenants existed (no tenant) belongs to `default`, like its task.
      const tenant = ownerTenant(work.tenant || undefined);
      const intake = await checkRepositoryIntake(work.repoPath, tenant, { repoRoots: this.options.repoRoots, tenantRepoRoots: this.options.tenantRepoRoots ?? [] });
      if (!intake.ok) {
        log.warn('subtask repository refused', { repoPath: work.repoPath, tenant, code: intake.code, problem: intake.problem });
        return toFailedResult(work, `${intake.code}: repoPath: ${intake.problem}`, this.origin());
      }
      if (intake.overridden.length > 0) {
        log.debug('repository config overridden by our git settings', { repoPath: intake.realPath, keys: intake.overridden });
      }
      // From here on the path checked is the one worked in.
      work = intake.realPath === work.repoPath ? work : { ...work, repoPath: intake.realPath };
      if (ended !== undefined) return this.notStarted(work, ended, log);
      lease = this.options.createWorkLease?.(work);
      if (lease !== undefined) {
        await takeWorkLease(lease, log);
        // An earlier holder may have finished while we waited for its lease: tell, never redo.
        const finished = await this.outcomes.stored(work.workId);
        if (finished !== undefined) {
          log.info('work finished by an earlier holder of its lease; re-publishing its outcome', { ok: resultOf(finished).ok });
          await this.outcomes.republish(finished, log);
          return { republished: finished };
        }
      }
      const merged = await mergedEarlier(work, this.origin(), log);
      if (merged !== undefined) return merged;
      const stops = [taskEnded.signal, ...(delivery.signal !== undefined ? [delivery.signal] : []), ...(lease !== undefined ? [lease.lost] : [])];
      const signal = stops.length === 1 ? taskEnded.signal : AbortSignal.any(stops);
      const steps = new StepReporter({ work, delivery, outbox: this.steps, executorId: this.options.executorId, clock: this.clock });
      return await runWorktreeAttempt(this.attempts, { work, delivery, signal, endedStatus: () => ended, ...(lease !== undefined ? { lease } : {}), steps, log });
    } finally {
      stopWatching();
      await lease?.release();
    }
  }

  private notStarted(work: SubtaskWork, status: FinalTaskStatus, log: Logger): WorkOutcome {
    log.info('task already ended; subtask not started', { status });
    return toNotStartedResult(work, status, this.origin());
  }

  private origin(): ResultOrigin {
    return { executorId: this.options.executorId, finishedAt: new Date(this.clock.now()).toISOString() };
  }
}

/**
 * Takes the work item's lease. Held by another attempt past the bounded wait (a live executor
 * still on it): handed back, which never uses up the work's last delivery; anything else
 * (lock-manager unreachable) is thrown as it is, for a nak with backoff.
 */
async function takeWorkLease(lease: WorkLease, log: Logger): Promise<void> {
  try {
    await lease.acquire();
  } catch (err) {
    const error = toMaestroError(err);
    if (error.details?.['code'] === 'LOCK_CONFLICT') {
      log.info('work lease held by another attempt; handing the work back', { err: error });
      throw handedBack(err, 'another attempt of this subtask holds its work lease; handed back');
    }
    throw error;
  }
}

/** `options` without its undefined fields, so spreading it over defaults keeps them. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
