/**
 * The task use cases behind OrchestratorService: submit (validate, store, start the `coding`
 * run), get, list and cancel. Transport-free: the gRPC handler maps messages in and out.
 */
import { randomUUID } from 'node:crypto';
import {
  invalidField,
  isMaestroError,
  notFound,
  OperationalError,
  toMaestroError,
  UserError,
  type Logger,
} from '@maestro/runtime';
import type { TaskEvents, WorkflowPort } from '../domain/ports.js';
import type { RepoProbe } from '../domain/repo-probe.js';
import { isFinalTaskStatus, isTaskStatus, TaskStatuses, type TaskRecord, type TaskWithSubtasks } from '../domain/task.js';
import { validateTaskSubmission, type TaskSubmissionInput } from '../domain/task-submission.js';
import type { TaskStore } from '../store/task-store.js';

/** The workflow definition every task runs. */
export const CODING_WORKFLOW = 'coding';
/** Default and largest page of ListTasks. */
export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 500;
/** Error code when the task was stored but its run could not be started. */
export const WORKFLOW_START_FAILED = 'WORKFLOW_START_FAILED';

/** What the task service needs. */
export interface TaskServiceDeps {
  store: TaskStore;
  repoProbe: RepoProbe;
  workflow: WorkflowPort;
  taskEvents: TaskEvents;
  /** Deadline of workflow-engine calls. @default 10000 */
  workflowDeadlineMs?: number;
}

function checkTaskId(taskId: string): void {
  if (taskId.trim() === '') throw invalidField('task_id', 'is required');
}

/** Submit, read and cancel tasks. */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  /**
   * Validates and stores the task, then starts its run. Nothing is stored when validation
   * fails. With an idempotency key already used, returns that task (and retries starting its
   * run if an earlier attempt could not).
   */
  async submit(input: TaskSubmissionInput, logger: Logger): Promise<TaskWithSubtasks> {
    const valid = await validateTaskSubmission(input, this.deps.repoProbe);
    if (valid.idempotencyKey !== null) {
      const existing = await this.deps.store.findByIdempotencyKey(valid.idempotencyKey);
      if (existing) return this.resume(existing, logger);
    }
    const { task, created } = await this.deps.store.insertTask({ id: randomUUID(), ...valid });
    if (!created) return this.resume(await this.mustGet(task.id), logger);
    logger.info('task submitted', { taskId: task.id, repoPath: task.repoPath, project: task.project });
    await this.deps.taskEvents.updated(task);
    await this.startRun(task, logger);
    return this.mustGet(task.id);
  }

  /** The task with its subtasks; NOT_FOUND when there is none. */
  async get(taskId: string): Promise<TaskWithSubtasks> {
    checkTaskId(taskId);
    return this.mustGet(taskId);
  }

  /** Tasks newest first; `limit` 0 means the default, more than the maximum is refused. */
  async list(query: { limit: number; status: string }): Promise<TaskWithSubtasks[]> {
    if (!Number.isInteger(query.limit) || query.limit < 0) throw invalidField('limit', 'must be a positive number');
    if (query.limit > LIST_MAX_LIMIT) throw invalidField('limit', `must be at most ${LIST_MAX_LIMIT}`);
    const status = query.status.trim();
    if (status !== '' && !isTaskStatus(status)) {
      throw invalidField('status', `must be one of ${Object.values(TaskStatuses).join(', ')}, got "${status}"`);
    }
    return this.deps.store.listTasks({
      limit: query.limit === 0 ? LIST_DEFAULT_LIMIT : query.limit,
      status: status === '' ? undefined : (status as TaskRecord['status']),
    });
  }

  /**
   * Asks the task's run to cancel. A task that already ended is returned unchanged; a task
   * whose run never started is cancelled here.
   */
  async cancel(taskId: string, reason: string, logger: Logger): Promise<TaskWithSubtasks> {
    checkTaskId(taskId);
    const { task } = await this.mustGet(taskId);
    if (isFinalTaskStatus(task.status)) return this.mustGet(taskId);
    const why = reason.trim() === '' ? 'cancelled on request' : reason.trim();
    if (task.runId === null) {
      await this.markCancelled(taskId, why);
    } else {
      const run = await this.deps.workflow.sendEvent(
        { runId: task.runId, type: 'CANCEL', payload: { reason: why } },
        { deadlineMs: this.deps.workflowDeadlineMs ?? 10_000 },
      );
      logger.info('cancel sent to run', { taskId, runId: task.runId, runStatus: run.status });
      // The run event will say so too; recording it now lets the caller see the effect.
      if (run.status === 'cancelled') await this.markCancelled(taskId, why);
    }
    return this.mustGet(taskId);
  }

  private async markCancelled(taskId: string, reason: string): Promise<void> {
    const updated = await this.deps.store.withLockedTask(taskId, async (locked) =>
      isFinalTaskStatus(locked.task.status) ? undefined : locked.update({ status: 'cancelled', failureReason: reason }),
    );
    if (updated) await this.deps.taskEvents.updated(updated, reason);
  }

  private async resume(existing: TaskWithSubtasks, logger: Logger): Promise<TaskWithSubtasks> {
    if (existing.task.runId === null && existing.task.status === 'pending') {
      logger.info('idempotent submit of a task without a run; starting it', { taskId: existing.task.id });
      await this.startRun(existing.task, logger);
      return this.mustGet(existing.task.id);
    }
    return existing;
  }

  /**
   * Starts the task's `coding` run with the task id as idempotency key, so retrying never
   * starts two runs. A transient failure leaves a task with an idempotency key pending (a
   * retry with the same key starts it); any other failure marks the task failed.
   */
  private async startRun(task: TaskRecord, logger: Logger): Promise<void> {
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
        { deadlineMs: this.deps.workflowDeadlineMs ?? 10_000 },
      );
      await this.deps.store.withLockedTask(task.id, (locked) =>
        locked.task.runId === null ? locked.update({ runId: run.id }) : Promise.resolve(locked.task),
      );
      logger.info('coding run started', { taskId: task.id, runId: run.id });
    } catch (err) {
      const error = toMaestroError(err);
      const transient = error instanceof OperationalError;
      const message = `task ${task.id} was stored but its ${CODING_WORKFLOW} run could not be started: ${error.message}`;
      if (!(transient && task.idempotencyKey !== null)) {
        const failed = await this.deps.store.withLockedTask(task.id, (locked) =>
          locked.update({ status: 'failed', failureReason: message }),
        );
        if (failed) await this.deps.taskEvents.updated(failed);
      }
      if (transient) {
        const hint = task.idempotencyKey !== null ? '; retry with the same idempotency_key' : '';
        throw new OperationalError(WORKFLOW_START_FAILED, `${message}${hint}`, { cause: err });
      }
      if (isMaestroError(err) && err instanceof UserError) {
        throw new UserError(WORKFLOW_START_FAILED, message, { reason: 'precondition', cause: err });
      }
      throw error;
    }
  }

  private async mustGet(taskId: string): Promise<TaskWithSubtasks> {
    const found = await this.deps.store.getTask(taskId);
    if (!found) throw notFound('task', taskId, 'TASK_NOT_FOUND');
    return found;
  }
}
