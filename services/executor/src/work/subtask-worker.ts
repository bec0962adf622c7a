/**
 * Handles one coding subtask from the executor work queue: idempotency first (a stored outcome
 * is re-published, never redone), then the agent loop in the subtask's repository under the
 * lock-manager's write guard, then the outcome, stored before it is published: the result, or,
 * when the agent failed (tests still red, stuck, out of budget, unreadable replies), an
 * escalation to Orion with the failure packet. Work of a task that has ended (cancelled, failed,
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
import { gitDiffOf, gitHeadOf } from '../adapters/git-workspace.js';
import { exponentialBackoff, OperationalError, systemClock, toMaestroError, type Clock, type Logger } from '@maestro/runtime';
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
import type { SubtaskCollaborators, WorkPublisher, WorkResultStore } from '../domain/ports.js';
import { isProbe, toProbeResult } from '../domain/probe.js';
import {
  MAX_FAILURE_REASON_CHARS,
  toFailedResult,
  toSubtaskResult,
  toWorkFinishedEvent,
  toWorkStepEvent,
  truncate,
} from '../domain/subtask-result.js';
import { buildTaskText } from '../domain/task-text.js';
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

  constructor(private readonly options: SubtaskWorkerOptions) {
    this.tools = options.tools ?? createDefaultToolRegistry();
    this.clock = options.clock ?? systemClock;
    this.endedTasks = options.endedTasks ?? new EndedTasks({ clock: this.clock });
    const clock = options.clock;
    this.preciseNow = clock !== undefined ? () => clock.now() : () => performance.timeOrigin + performance.now();
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
   * The agent loop under `signal` (shutdown or the task's end). `endedStatus` tells which of the
   * two stopped it: the task's end gives a failed result, shutdown a hand-back.
   */
  private async runAgent(
    work: SubtaskWork,
    delivery: WorkDelivery,
    signal: AbortSignal,
    endedStatus: () => FinalTaskStatus | undefined,
    log: Logger,
  ): Promise<WorkOutcome> {
    const guard = this.options.createWriteGuard(work);
    const model = new TransientFailureWatch(this.options.createModel(work));
    let verdict: AgentVerdict;
    log.info('subtask started', { repoPath: work.repoPath, maxSteps: this.options.budget.maxSteps, role: work.role ?? 'tactical', hinted: work.hint !== undefined });
    // Where the agent starts, for the diff of a failure packet.
    const base = await gitHeadOf(work.repoPath);
    const testRuns: TestRunStep[] = [];
    try {
      verdict = await runAgentLoop({
        model,
        tools: this.tools,
        workspace: work.repoPath,
        ...(this.options.systemPrompt !== undefined ? { systemPrompt: this.options.systemPrompt } : {}),
        task: buildTaskText(work),
        testCommand: work.testCommand,
        budget: this.options.budget,
        writeGuard: guard,
        signal,
        onStep: (step) => {
          if (step.kind === 'tool' && step.tool === 'tests') testRuns.push({ step: step.index, summary: step.summary, ok: step.ok });
          return this.onStep(work, step, delivery, log);
        },
      });
    } catch (err) {
      const status = endedStatus();
      if (status !== undefined) return this.stopped(work, status, log);
      if (delivery.signal?.aborted) throw handedBack(err);
      const error = toMaestroError(err);
      if (error instanceof OperationalError) {
        log.warn('subtask hit a transient failure; handing it back for redelivery', { code: error.code, error: error.message });
        throw error;
      }
      log.error('agent loop failed', { code: error.code, error: error.message });
      return toFailedResult(work, `agent loop error (${error.code}): ${error.message}`, this.origin());
    } finally {
      await guard.release();
    }
    const status = endedStatus();
    if (status !== undefined) return this.stopped(work, status, log);
    // A loop cut short by shutdown has no honest verdict; the next executor starts it again.
    if (delivery.signal?.aborted) throw handedBack(undefined);
    // The router refuses calls once the task's budget is spent: no strategic decision can help,
    // so the subtask fails plainly, with the code in its reason, and Orion fails the task.
    const refusal = model.failure;
    if (verdict.status === 'failed' && refusal?.code === TASK_BUDGET_EXHAUSTED) {
      log.info('task budget exhausted; subtask failed without escalation', { error: refusal.message });
      return { ...toSubtaskResult(work, verdict, this.origin()), failureReason: truncate(`${TASK_BUDGET_EXHAUSTED}: ${refusal.message}`, MAX_FAILURE_REASON_CHARS) };
    }
    // The loop ends a run whose model call failed with a `failed` verdict; when that failure was
    // transient (router unreachable) the subtask did not fail, the infrastructure did: hand it back.
    const transient = model.transientFailure;
    if (verdict.status === 'failed' && transient !== undefined) {
      log.warn('model unreachable; handing the subtask back for redelivery', { code: transient.code, error: transient.message });
      throw transient;
    }
    log.info('subtask finished', { status: verdict.status, steps: verdict.steps, commitSha: verdict.commitSha });
    if (verdict.status === 'succeeded' || !isSubjectToken(work.taskId)) return toSubtaskResult(work, verdict, this.origin());
    // The agent failed: Orion decides what happens next, with the evidence.
    const diff = await gitDiffOf(work.repoPath, base, verdict.filesChanged);
    const escalation = toEscalation(work, verdict, { diff, testRuns }, this.origin(), this.options.packetBudgets);
    log.info('subtask escalated', { reason: escalation.packet.reason, diffChars: escalation.packet.lastDiff.length });
    return escalation;
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
