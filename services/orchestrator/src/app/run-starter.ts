/**
 * Starts the `coding` run of a task: `WorkflowService.StartRun` with the task id as
 * idempotency key, so trying again can never start a second run. A transient failure (engine
 * restarting, deadline passed) does not fail the task, because the engine may well have
 * created the run: the task stays `pending` and StartRun is retried in the background with
 * bounded backoff, again on the next GetTask of the task, and on the next start of Orion. Only
 * a refusal (say, no `coding` definition) marks the task failed.
 */
import {
  isMaestroError,
  OperationalError,
  toMaestroError,
  UserError,
  type Logger,
} from '@maestro/runtime';
import type { TaskEvents, WorkflowPort } from '../domain/ports.js';
import { isFinalTaskStatus, type TaskRecord } from '../domain/task.js';
import type { TaskStore } from '../store/task-store.js';
import { cancelLateRun } from './cancel-late-run.js';

/** The workflow definition every task runs. */
export const CODING_WORKFLOW = 'coding';
/** Error code when the task was stored but the engine refused to start its run. */
export const WORKFLOW_START_FAILED = 'WORKFLOW_START_FAILED';
/**
 * Pauses between background StartRun attempts, about 3.5 minutes in all; after the last the
 * task waits, pending, for its next GetTask or Orion's next start.
 */
export const DEFAULT_START_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 30_000, 30_000, 30_000, 30_000];
/** Unstarted tasks picked up when Orion starts. */
const RESUME_LIMIT = 500;

/** What starting runs needs. */
export interface RunStarterDeps {
  store: TaskStore;
  workflow: WorkflowPort;
  taskEvents: TaskEvents;
  /** For the background retries, which outlive the call that began them. */
  logger: Logger;
  /** Deadline of workflow-engine calls. @default 10000 */
  workflowDeadlineMs?: number;
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

/** Starts task runs, retrying transient failures in the background until stopped. */
export class RunStarter {
  private readonly retrying = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly deadlineMs: number;
  private readonly delays: readonly number[];

  constructor(private readonly deps: RunStarterDeps) {
    this.deadlineMs = deps.workflowDeadlineMs ?? 10_000;
    this.delays = deps.retryDelaysMs ?? DEFAULT_START_RETRY_DELAYS_MS;
  }

  /**
   * Tries StartRun now. On a transient failure the task stays pending and the attempts go on
   * in the background; a refusal marks the task failed and throws (`FAILED_PRECONDITION`).
   */
  async start(task: TaskRecord, logger: Logger): Promise<void> {
    if ((await this.attempt(task, logger)) === 'transient') this.retryInBackground(task.id);
  }

  /** Keeps trying StartRun for a pending task without a run, unless already doing so. */
  retryInBackground(taskId: string): void {
    if (this.stopping.signal.aborted || this.retrying.has(taskId)) return;
    const log = this.deps.logger.child({ taskId });
    const loop = this.retryLoop(taskId, log)
      .catch((err: unknown) => {
        const error = toMaestroError(err);
        log.error('background start of the run stopped on an error', { code: error.code, message: error.message });
      })
      .finally(() => this.retrying.delete(taskId));
    this.retrying.set(taskId, loop);
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

  private async attempt(task: TaskRecord, logger: Logger): Promise<Attempt> {
    let runId: string;
    try {
      const run = await this.deps.workflow.startRun(
        {
          definitionName: CODING_WORKFLOW,
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
      const message = `task ${task.id} was stored but its ${CODING_WORKFLOW} run could not be started: ${error.message}`;
      if (error instanceof OperationalError) {
        logger.warn('run not started yet; the task stays pending and the start is retried', { taskId: task.id, code: error.code, message });
        return 'transient';
      }
      const failed = await this.deps.store.withLockedTask(task.id, (locked) =>
        isFinalTaskStatus(locked.task.status) ? Promise.resolve(undefined) : locked.update({ status: 'failed', failureReason: message }),
      );
      if (failed) await this.deps.taskEvents.updated(failed);
      logger.warn('workflow-engine refused to start the run; task failed', { taskId: task.id, code: error.code, message });
      if (isMaestroError(err) && err instanceof UserError) {
        throw new UserError(WORKFLOW_START_FAILED, message, { reason: 'precondition', cause: err });
      }
      throw error;
    }
    await this.attachRun(task.id, runId, logger);
    return 'started';
  }

  /** Stores the run id; a task that ended while StartRun was in flight gets its run cancelled. */
  private async attachRun(taskId: string, runId: string, logger: Logger): Promise<void> {
    const ended = await this.deps.store.withLockedTask(taskId, async (locked) => {
      if (locked.task.runId !== null) return false;
      if (isFinalTaskStatus(locked.task.status)) return true;
      await locked.update({ runId });
      return false;
    });
    if (!ended) {
      logger.info('coding run started', { taskId, runId });
      return;
    }
    try {
      await this.deps.store.withLockedTask(taskId, (locked) =>
        locked.task.runId === null
          ? cancelLateRun(locked, runId, { workflow: this.deps.workflow, workflowDeadlineMs: this.deadlineMs }, logger)
          : Promise.resolve(),
      );
    } catch (err) {
      // The run's first event (it names the task) brings the CANCEL round again.
      const error = toMaestroError(err);
      logger.warn('could not cancel the run of an ended task yet; its run events will retry', { taskId, runId, code: error.code });
    }
  }
}
