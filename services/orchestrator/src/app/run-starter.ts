/**
 * Starts the run of a task's workflow (`task.workflow`): `WorkflowService.StartRun` with the task id as
 * idempotency key, so trying again can never start a second run. Any failure but a refusal
 * (engine restarting, deadline passed, the engine's own database down: UNAVAILABLE,
 * DEADLINE_EXCEEDED, INTERNAL, CANCELLED …) does not fail the task, because the engine may
 * well have created the run: the task stays `pending` and StartRun is retried in the background
 * with bounded backoff, again on the next GetTask of the task, and on the next start of Orion.
 * Only a refusal (a `UserError`, say no such definition) marks the task failed.
 */
import { OperationalError, toMaestroError, UserError, type Logger } from '@maestro/runtime';
import type { TaskEvents, WorkflowPort } from '../domain/ports.js';
import { isFinalTaskStatus, type TaskRecord } from '../domain/task.js';
import type { TaskStore } from '../store/task-store.js';
import { cancelLateRun } from './cancel-late-run.js';
import type { TaskTracing } from './task-tracing.js';

/** Error code when the task was stored but the engine refused to start its run. */
export const WORKFLOW_START_FAILED = 'WORKFLOW_START_FAILED';
/**
 * Pauses between background StartRun attempts, about 3.5 minutes in all; after the last the
 * task waits, pending, for its next GetTask or Orion's next start.
 */
export const DEFAULT_START_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 30_000, 30_000, 30_000, 30_000];
/** How long SubmitTask waits for StartRun before answering with the task pending. */
export const DEFAULT_INLINE_START_MS = 3_000;
/** Unstarted tasks picked up when Orion starts. */
const RESUME_LIMIT = 500;

/** What starting runs needs. */
export interface RunStarterDeps {
  store: TaskStore;
  /** Puts every attempt in the task's trace, whether SubmitTask, a GetTask or a timer began it. */
  tracing: Pick<TaskTracing, 'run'>;
  workflow: WorkflowPort;
  taskEvents: TaskEvents;
  /** For the background retries, which outlive the call that began them. */
  logger: Logger;
  /** Deadline of workflow-engine calls. @default 10000 */
  workflowDeadlineMs?: number;
  /**
   * How long `start` waits for StartRun before returning with the task still pending; the call
   * goes on in the background. Well under the caller's own deadline (the gateway gives
   * SubmitTask 10 s), so a hanging engine never makes a stored task look failed to the client,
   * who would then submit it again. @default DEFAULT_INLINE_START_MS
   */
  inlineStartMs?: number;
  /** Pauses before each background attempt. @default DEFAULT_START_RETRY_DELAYS_MS */
  retryDelaysMs?: readonly number[];
}

/** How one StartRun attempt ended (a refusal throws instead). */
type Attempt = 'started' | 'transient';

/** Resolves after `ms`, or at once when `signal` aborts; true when the time passed. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether `work` settled within `ms` (then its result; a rejection propagates) or not ('late'). */
async function settlesWithin<T>(work: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts task runs, retrying transient failures in the background until stopped. */
export class RunStarter {
  private readonly retrying = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly deadlineMs: number;
  private readonly delays: readonly number[];
  private readonly inlineMs: number;

  constructor(private readonly deps: RunStarterDeps) {
    this.deadlineMs = deps.workflowDeadlineMs ?? 10_000;
    this.delays = deps.retryDelaysMs ?? DEFAULT_START_RETRY_DELAYS_MS;
    this.inlineMs = deps.inlineStartMs ?? DEFAULT_INLINE_START_MS;
  }

  /**
   * Tries StartRun now, waiting at most `inlineStartMs` for it. On a transient failure, or when
   * the call takes longer, the task stays pending and the attempts go on in the background; a
   * refusal within that time marks the task failed and throws (`FAILED_PRECONDITION`).
   */
  async start(task: TaskRecord, logger: Logger): Promise<void> {
    const attempt = this.attempt(task, logger);
    const outcome = await settlesWithin(attempt, this.inlineMs);
    if (outcome === 'late') {
      logger.warn('run not started within the inline wait; the task is returned pending and the start goes on in the background', {
        taskId: task.id,
        waitedMs: this.inlineMs,
      });
      this.continueInBackground(task.id, attempt);
    } else if (outcome === 'transient') {
      this.retryInBackground(task.id);
    }
  }

  /** Keeps trying StartRun for a pending task without a run, unless already doing so. */
  retryInBackground(taskId: string): void {
    if (this.stopping.signal.aborted || this.retrying.has(taskId)) return;
    const log = this.deps.logger.child({ taskId });
    this.track(taskId, this.retryLoop(taskId, log), log);
  }

  /**
   * Lets an inline attempt that outlived its wait finish in the background, then retries as
   * usual if it failed transiently. Tracked like a retry loop, so GetTask does not start a
   * second loop meanwhile and `stop` waits for it.
   */
  private continueInBackground(taskId: string, attempt: Promise<Attempt>): void {
    const log = this.deps.logger.child({ taskId });
    const rest = attempt.then(
      (outcome) => (outcome === 'transient' && !this.stopping.signal.aborted ? this.retryLoop(taskId, log) : undefined),
      (err: unknown) => {
        // A refusal: attempt() already marked the task failed and logged why.
        if (!(err instanceof UserError)) throw err;
      },
    );
    // A retry loop GetTask began while the attempt ran is left to finish on its own.
    if (!this.retrying.has(taskId)) this.track(taskId, rest, log);
    else void rest.catch((err: unknown) => this.logStopped(log, err));
  }

  private track(taskId: string, work: Promise<void>, log: Logger): void {
    const done = work.catch((err: unknown) => this.logStopped(log, err)).finally(() => this.retrying.delete(taskId));
    this.retrying.set(taskId, done);
  }

  private logStopped(log: Logger, err: unknown): void {
    const error = toMaestroError(err);
    log.error('background start of the run stopped on an error', { code: error.code, message: error.message });
  }

  /** Picks up every pending task without a run (a replica may have died while retrying); returns how many. */
  async resumeUnstarted(): Promise<number> {
    const tasks = await this.deps.store.listUnstartedTasks(RESUME_LIMIT);
    for (const task of tasks) this.retryInBackground(task.id);
    if (tasks.length > 0) this.deps.logger.info('retrying the start of unstarted tasks', { tasks: tasks.length });
    return tasks.length;
  }

  /** Stops the background attempts and waits for any in flight. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.retrying.values()]);
  }

  private async retryLoop(taskId: string, log: Logger): Promise<void> {
    for (const delay of this.delays) {
      if (!(await pause(delay, this.stopping.signal))) return;
      const found = await this.deps.store.getTask(taskId);
      // Started meanwhile (by another replica, a run event, a resubmit) or ended (cancelled).
      if (!found || found.task.status !== 'pending' || found.task.runId !== null) return;
      try {
        if ((await this.attempt(found.task, log)) === 'started') return;
      } catch {
        return; // refused: attempt() marked the task failed and logged why
      }
    }
    log.error('run still not started after every background attempt; the task stays pending until its next GetTask or an orchestrator restart', {
      attempts: this.delays.length,
    });
  }

  private attempt(task: TaskRecord, logger: Logger): Promise<Attempt> {
    return this.deps.tracing.run('start run', task.id, () => this.attemptInTrace(task, logger));
  }

  private async attemptInTrace(task: TaskRecord, logger: Logger): Promise<Attempt> {
    let runId: string;
    try {
      const run = await this.deps.workflow.startRun(
        {
          // The run belongs to the task's tenant, and resolves its workflow among that tenant's definitions first.
          tenant: task.tenant,
          definitionName: task.workflow,
          definitionVersion: 0,
          input: {
            taskId: task.id,
            goal: task.goal,
            repoPath: task.repoPath,
            testCommand: task.testCommand,
            project: task.project,
          },
          idempotencyKey: task.id,
        },
        { deadlineMs: this.deadlineMs },
      );
      runId = run.id;
    } catch (err) {
      const error = toMaestroError(err);
      const message = `task ${task.id} was stored but its ${task.workflow} run could not be started: ${error.message}`;
      // Only a refusal fails the task. Anything else (UNAVAILABLE, DEADLINE_EXCEEDED, but also
      // INTERNAL or CANCELLED when the engine's own database is down) may have created the run
      // or may succeed on a retry, and StartRun is idempotent on the task id.
      if (!(error instanceof UserError)) {
        const level = error instanceof OperationalError ? 'warn' : 'error';
        logger[level]('run not started yet; the task stays pending and the start is retried', { taskId: task.id, code: error.code, message });
        return 'transient';
      }
      const failed = await this.deps.store.withLockedTask(task.id, (locked) =>
        isFinalTaskStatus(locked.task.status) ? Promise.resolve(undefined) : locked.update({ status: 'failed', failureReason: message }),
      );
      if (failed) await this.deps.taskEvents.updated(failed);
      logger.warn('workflow-engine refused to start the run; task failed', { taskId: task.id, code: error.code, message });
      throw new UserError(WORKFLOW_START_FAILED, message, { reason: 'precondition', cause: err });
    }
    await this.attachRun(task.id, runId, logger);
    return 'started';
  }

  /** Stores the run id; a task that ended while StartRun was in flight gets its run cancelled. */
  private async attachRun(taskId: string, runId: string, logger: Logger): Promise<void> {
    // Decided under the lock; the CANCEL of a late run goes out after the commit.
    const ended = await this.deps.store.withLockedTask(taskId, async (locked): Promise<TaskRecord | undefined> => {
      if (locked.task.runId !== null) return undefined;
      if (isFinalTaskStatus(locked.task.status)) return locked.task;
      await locked.update({ runId });
      return undefined;
    });
    if (!ended) {
      logger.info('coding run started', { taskId, runId });
      return;
    }
    try {
      await cancelLateRun(ended, runId, { store: this.deps.store, workflow: this.deps.workflow, workflowDeadlineMs: this.deadlineMs }, logger);
    } catch (err) {
      // The run's first event (it names the task) brings the CANCEL round again.
      const error = toMaestroError(err);
      logger.warn('could not cancel the run of an ended task yet; its run events will retry', { taskId, runId, code: error.code });
    }
  }
}
