/**
 * The orchestrator as the gateway sees it (OrchestratorApi), in process: tasks kept in a list,
 * submitted, read, listed (status, goal-contains, paging), cancelled; agent steps recorded by the
 * test. Refuses what the real one refuses (unknown ids, a repoPath that is not a git work tree,
 * cancelling an ended task). Like the real one, a caller acting for a tenant sees only that
 * tenant's tasks: another's read as unknown.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AgentStep,
  Task,
  type CancelTaskRequest,
  type GetTaskRequest,
  type ListAgentStepsRequest,
  type ListAgentStepsResponse,
  type ListTasksRequest,
  type ListTasksResponse,
  type SubmitTaskRequest,
} from '@maestro/contracts';
import { UserError, invalidField, notFound, type Clock } from '@maestro/runtime';
import type { OrchestratorApi } from '../../src/ports.js';
import { pageOf } from './paging.js';

/** True when a caller acting for `caller` ('' for internal callers: every tenant) may see `owner`'s things. */
export function visibleTo(caller: string, owner: string): boolean {
  return caller === '' || caller === owner;
}

/** An in-process orchestrator for gateway tests. */
export class FakeOrchestrator implements OrchestratorApi {
  readonly tasks: Task[] = [];
  readonly steps: AgentStep[] = [];
  /** Every SubmitTask request as it arrived, refused ones included. */
  readonly submitted: SubmitTaskRequest[] = [];

  constructor(private readonly clock: Clock) {}

  async submitTask(request: SubmitTaskRequest): Promise<Task> {
    this.submitted.push(request);
    if (!existsSync(join(request.repoPath, '.git'))) throw invalidField('repo_path', `is not a git repository: ${request.repoPath}`);
    const now = new Date(this.clock.now());
    const task = Task.fromPartial({
      id: `task-${this.tasks.length + 1}`,
      tenant: request.tenant,
      goal: request.goal.trim(),
      repoPath: request.repoPath,
      testCommand: request.testCommand,
      project: request.project || request.repoPath.split('/').pop() || '',
      status: 'pending',
      budget: request.budget ?? { usd: 0, tokens: 0 },
      workflow: request.workflow,
      memoryScopes: request.memoryScopes,
      createdAt: now,
      updatedAt: now,
    });
    this.tasks.unshift(task);
    return task;
  }

  async getTask(request: GetTaskRequest): Promise<Task> {
    const task = this.tasks.find((t) => t.id === request.taskId && visibleTo(request.tenant, t.tenant));
    if (!task) throw notFound('task', request.taskId, 'TASK_NOT_FOUND');
    return task;
  }

  async listTasks(request: ListTasksRequest): Promise<ListTasksResponse> {
    if (request.limit < 0 || request.limit > 500) throw invalidField('limit', 'must be 0 to 500');
    const needle = request.goalContains.toLowerCase();
    const matching = this.tasks.filter(
      (t) => visibleTo(request.tenant, t.tenant) && (request.status === '' || t.status === request.status) && (needle === '' || t.goal.toLowerCase().includes(needle)),
    );
    const { page, next } = pageOf(matching, request.limit || 50, request.pageToken);
    return { tasks: page, nextPageToken: next };
  }

  async cancelTask(request: CancelTaskRequest): Promise<Task> {
    const task = await this.getTask({ tenant: request.tenant, taskId: request.taskId });
    if (!['pending', 'running'].includes(task.status)) {
      throw new UserError('TASK_ENDED', `task ${task.id} has already ended (${task.status})`, { reason: 'precondition' });
    }
    task.status = 'cancelled';
    task.failureReason = request.reason;
    task.updatedAt = new Date(this.clock.now());
    return task;
  }

  async listAgentSteps(request: ListAgentStepsRequest): Promise<ListAgentStepsResponse> {
    if (request.taskId !== '') await this.getTask({ tenant: request.tenant, taskId: request.taskId });
    const matching = this.steps.filter(
      (s) =>
        (request.taskId === '' || s.taskId === request.taskId) &&
        (request.runId === '' || s.runId === request.runId) &&
        (request.subtaskId === '' || s.subtaskId === request.subtaskId),
    );
    if (request.after !== '' && !/^offset/.test(Buffer.from(request.after, 'base64url').toString('utf8'))) {
      throw invalidField('after', 'is not a cursor this service issued');
    }
    const { page, next } = pageOf(matching, request.limit || 200, request.after);
    return { steps: page, nextAfter: next };
  }

  /** Records a step as an executor's report would. */
  recordStep(step: Partial<AgentStep>): void {
    this.steps.push(AgentStep.fromPartial({ at: new Date(this.clock.now()), ...step }));
  }
}
