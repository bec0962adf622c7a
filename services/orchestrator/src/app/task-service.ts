/**
 * The task use cases behind OrchestratorService: submit (validate, store, start the `coding`
 * run), get, list and cancel. Transport-free: the gRPC handler maps messages in and out.
 */
import { randomUUID } from 'node:crypto';
import { TaskLimits } from '@maestro/contracts';
import { invalidField, notFound, type Logger, isVisibleTo, ownerTenant, tenantScope } from '@maestro/runtime';
import { needsBranchTip, taskBranchName, type BranchDelivery } from '../domain/delivery.js';
import type { RouterPort, TaskEvents, WorkflowPort } from '../domain/ports.js';
import type { RepoProbe } from '../domain/repo-probe.js';
import { isFinalTaskStatus, type TaskWithSubtasks } from '../domain/task.js';
import { validateTaskSubmission, type SubmissionDefaults, type TaskSubmissionInput } from '../domain/task-submission.js';
import { encodeTaskListCursor, validateTaskListQuery, type TaskListInput } from '../domain/task-list-query.js';
import { classifyTask } from './classify-task.js';
import type { TaskStore } from '../store/task-store.js';
import type { RunStarter } from './run-starter.js';

/** What the task service needs. */
export interface TaskServiceDeps {
  store: TaskStore;
  repoProbe: RepoProbe;
  workflow: WorkflowPort;
  taskEvents: TaskEvents;
  /** Starts runs, retrying transient failures in the background. */
  runs: RunStarter;
  /** Deadline of workflow-engine calls. @default 10000 */
  workflowDeadlineMs?: number;
  /** Classifies goals (the router's ClassifyIntent). */
  router: Pick<RouterPort, 'classifyIntent'>;
  /**
   * Deadline of ClassifyIntent; past it the goal is classified here instead (the same classifier).
   * @default 2000
   */
  classifyDeadlineMs?: number;
  /** Values a submission takes when it leaves them out. */
  defaults: SubmissionDefaults;
  /** Where a failed or cancelled task's branch points, for its delivery view (git is the truth). */
  branches: Pick<BranchDelivery, 'branchShas'>;
}

function checkTaskId(taskId: string): void {
  if (taskId.trim() === '') throw invalidField('task_id', 'is required');
}

/** Submit, read and cancel tasks. */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  /**
   * Validates and stores the task, then starts its run. Nothing is stored when validation
   * fails. With an idempotency key already used, returns that task (and tries starting its
   * run again if it has none yet). When the engine is unavailable the task is returned
   * `pending` without a run id and its run is started in the background (see `RunStarter`),
   * so a caller never has a reason to submit the same work twice.
   */
  async submit(input: TaskSubmissionInput & { tenant?: string }, logger: Logger): Promise<TaskWithSubtasks> {
    // The task belongs to the caller's tenant; an internal caller's to `default`.
    const tenant = ownerTenant(tenantScope(input.tenant));
    const valid = await validateTaskSubmission(input, this.deps.repoProbe, this.deps.defaults);
    if (valid.idempotencyKey !== null) {
      const existing = await this.deps.store.findByIdempotencyKey(valid.idempotencyKey, tenant);
      if (existing) return this.resume(existing, logger);
    }
    const classified = await classifyTask(valid.goal, this.deps.router, { deadlineMs: this.deps.classifyDeadlineMs ?? 2_000, logger });
    const { task, created } = await this.deps.store.insertTask({
      id: randomUUID(),
      tenant,
      ...valid,
      intent: classified.intent,
      workflow: valid.workflow ?? classified.workflow,
    });
    if (!created) return this.resume(await this.mustGet(task.id), logger);
    logger.info('task submitted', {
      taskId: task.id,
      tenant: task.tenant,
      repoPath: task.repoPath,
      project: task.project,
      intent: classified.intent.intent,
      workflow: task.workflow,
      memoryScopes: task.memoryScopes,
      budgetUsd: task.budget.usd,
      budgetTokens: task.budget.tokens,
    });
    await this.deps.taskEvents.updated(task);
    await this.deps.runs.start(task, logger);
    return this.mustGet(task.id);
  }

  /**
   * The task with its subtasks; NOT_FOUND when there is none, or it is another tenant's than
   * `tenant` (a tenant name; undefined: an internal caller, any tenant). Reading a pending task
   * without a run also tries starting its run again (in the background), should earlier tries
   * have given up.
   */
  async get(taskId: string, tenant?: string): Promise<TaskWithSubtasks> {
    checkTaskId(taskId);
    const found = await this.mustGet(taskId, tenant);
    if (found.task.status === 'pending' && found.task.runId === null) this.deps.runs.retryInBackground(taskId);
    return this.withBranchTip(found);
  }

  /**
   * One page of tasks newest first, filtered by status and goal (`domain/task-list-query.ts`);
   * `limit` 0 means the default, more than the maximum is refused. `nextPageToken` is '' after
   * the last page.
   */
  async list(input: TaskListInput, tenant?: string): Promise<{ tasks: TaskWithSubtasks[]; nextPageToken: string }> {
    const query = validateTaskListQuery(input);
    const page = await this.deps.store.listTasks(tenant === undefined ? query : { ...query, tenant });
    return { tasks: await this.withBranchTips(page.tasks), nextPageToken: page.next === null ? '' : encodeTaskListCursor(page.next) };
  }

  /**
   * Asks the task's run to cancel. A task that already ended is returned unchanged. A task
   * whose run is not known yet (StartRun in flight, or waiting for the engine) is cancelled
   * here, and its run, should it appear after all, is sent CANCEL then (`cancelLateRun`).
   * Another tenant's task than `tenant` is NOT_FOUND, untouched.
   */
  async cancel(taskId: string, reason: string, logger: Logger, tenant?: string): Promise<TaskWithSubtasks> {
    checkTaskId(taskId);
    // A task's tenant never changes: checked once, before anything is decided.
    if (tenant !== undefined) await this.mustGet(taskId, tenant);
    if (reason.length > TaskLimits.cancelReasonMaxChars) {
      throw invalidField('reason', `is ${reason.length} characters; at most ${TaskLimits.cancelReasonMaxChars} are allowed`);
    }
    const why = reason.trim() === '' ? 'cancelled on request' : reason.trim();
    // Decided under the task's lock, so a run id stored by a StartRun that just returned is
    // either seen here (and sent CANCEL below) or finds the task cancelled (and cancels the run).
    const decision = await this.deps.store.withLockedTask(taskId, async (locked) => {
      if (isFinalTaskStatus(locked.task.status)) return { kind: 'ended' as const };
      if (locked.task.runId === null) {
        return { kind: 'cancelled' as const, task: await locked.update({ status: 'cancelled', failureReason: why }) };
      }
      return { kind: 'run' as const, runId: locked.task.runId, tenant: locked.task.tenant };
    });
    if (!decision) throw notFound('task', taskId, 'TASK_NOT_FOUND');
    if (decision.kind === 'cancelled') {
      logger.info('task cancelled before its run was known; a run that appears later is sent CANCEL', { taskId });
      await this.deps.taskEvents.updated(decision.task, why);
    } else if (decision.kind === 'run') {
      const run = await this.deps.workflow.sendEvent(
        { tenant: decision.tenant, runId: decision.runId, type: 'CANCEL', payload: { reason: why } },
        { deadlineMs: this.deps.workflowDeadlineMs ?? 10_000 },
      );
      logger.info('cancel sent to run', { taskId, runId: decision.runId, runStatus: run.status });
      // The run event will say so too; recording it now lets the caller see the effect.
      if (run.status === 'cancelled') await this.markCancelled(taskId, why);
    }
    return this.withBranchTip(await this.mustGet(taskId));
  }

  /**
   * Adds where the task branch points in git, for a failed or cancelled task whose delivery the
   * review never decided (see `deliveryView`); other tasks are returned as they are.
   */
  private async withBranchTip(found: TaskWithSubtasks): Promise<TaskWithSubtasks> {
    const [one] = await this.withBranchTips([found]);
    return one!;
  }

  /** {@link withBranchTip} for a page of tasks: one git call per repository, not one per task. */
  private async withBranchTips(page: readonly TaskWithSubtasks[]): Promise<TaskWithSubtasks[]> {
    const byRepo = new Map<string, string[]>();
    for (const { task } of page) {
      if (needsBranchTip(task)) byRepo.set(task.repoPath, [...(byRepo.get(task.repoPath) ?? []), taskBranchName(task.id)]);
    }
    const tips = new Map<string, Map<string, string> | null>();
    await Promise.all(
      [...byRepo].map(async ([repoPath, branches]) => {
        // git missing or hanging: the view says the tip is unknown rather than failing the read.
        tips.set(repoPath, await this.deps.branches.branchShas(repoPath, branches).catch(() => null));
      }),
    );
    return page.map((found) => {
      if (!needsBranchTip(found.task)) return found;
      const repoTips = tips.get(found.task.repoPath);
      return { ...found, branchTip: repoTips === null || repoTips === undefined ? null : (repoTips.get(taskBranchName(found.task.id)) ?? '') };
    });
  }

  /**
   * Records the cancel with its reason. The run's `cancelled` event often arrives first and
   * marks the task cancelled without one (the run carries none): the reason is then added to it.
   */
  private async markCancelled(taskId: string, reason: string): Promise<void> {
    const updated = await this.deps.store.withLockedTask(taskId, async (locked) => {
      const { status, failureReason } = locked.task;
      if (status === 'cancelled' && (failureReason === null || failureReason === '')) return locked.update({ failureReason: reason });
      return isFinalTaskStatus(status) ? undefined : locked.update({ status: 'cancelled', failureReason: reason });
    });
    if (updated) await this.deps.taskEvents.updated(updated, reason);
  }

  private async resume(existing: TaskWithSubtasks, logger: Logger): Promise<TaskWithSubtasks> {
    if (existing.task.runId === null && existing.task.status === 'pending') {
      logger.info('idempotent submit of a task without a run; starting it', { taskId: existing.task.id });
      await this.deps.runs.start(existing.task, logger);
      return this.mustGet(existing.task.id);
    }
    return existing;
  }

  /** The task; NOT_FOUND when there is none, and for another tenant's than `tenant` alike. */
  private async mustGet(taskId: string, tenant?: string): Promise<TaskWithSubtasks> {
    const found = await this.deps.store.getTask(taskId);
    if (!found || !isVisibleTo(found.task.tenant, tenant)) throw notFound('task', taskId, 'TASK_NOT_FOUND');
    return found;
  }
}
