/**
 * The OrchestratorService gRPC handlers: map requests onto the task service and tasks back
 * onto messages. Errors are thrown as maestro errors and translated by the runtime.
 */
import type {
  CancelTaskRequest,
  GetTaskRequest,
  ListAgentStepsRequest,
  ListAgentStepsResponse,
  ListTasksRequest,
  ListTasksResponse,
  SubmitTaskRequest,
  Task,
} from '@maestro/contracts';
import { unary, tenantScope } from '@maestro/runtime';
import type { AgentStepService } from '../../app/agent-steps.js';
import type { TaskService } from '../../app/task-service.js';
import { toAgentStepMessage } from './agent-step-mapper.js';
import { toTaskMessage } from './task-mapper.js';

/** The implementation to pass to `server.add(OrchestratorServiceService, …)`. */
export function createOrchestratorHandlers(tasks: TaskService, steps: AgentStepService) {
  return {
    submitTask: unary<SubmitTaskRequest, Task>(async (request, ctx) => toTaskMessage(await tasks.submit(request, ctx.logger))),
    getTask: unary<GetTaskRequest, Task>(async (request) => {
      const tenant = tenantScope(request.tenant);
      return toTaskMessage(await tasks.get(request.taskId, tenant));
    }),
    listTasks: unary<ListTasksRequest, ListTasksResponse>(async (request) => {
      const tenant = tenantScope(request.tenant);
      const page = await tasks.list({ limit: request.limit, status: request.status, goalContains: request.goalContains, pageToken: request.pageToken }, tenant);
      return { tasks: page.tasks.map(toTaskMessage), nextPageToken: page.nextPageToken };
    }),
    cancelTask: unary<CancelTaskRequest, Task>(async (request, ctx) => {
      const tenant = tenantScope(request.tenant);
      return toTaskMessage(await tasks.cancel(request.taskId, request.reason, ctx.logger, tenant));
    }),
    listAgentSteps: unary<ListAgentStepsRequest, ListAgentStepsResponse>(async (request) => {
      const tenant = tenantScope(request.tenant);
      const page = await steps.list(request, tenant);
      return { steps: page.steps.map(toAgentStepMessage), nextAfter: page.nextAfter };
    }),
  };
}
