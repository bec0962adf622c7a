/**
 * `/v1/tasks`: submit, read, list and cancel coding tasks (the orchestrator's API over HTTP).
 */
import { TaskLimits, WORKFLOW_NAME_PATTERN } from '@maestro/contracts';
import type { FastifyInstance } from 'fastify';
import { toMaestroError, type Logger } from '@maestro/runtime';
import type { OrchestratorApi, RouterApi } from '../../ports.js';
import { toAgentStepJson, toTaskCostJson, toTaskJson, toTaskUsageJson, type TaskJson } from './presenters.js';
import { explainPattern, withFieldNames } from './error-handler.js';
import { idParamsSchema, idPattern, nonBlank, pageTokenSchema, type IdParams } from './schemas.js';
import { agentStepSchema, errorResponses, listedTaskSchema, ok, taskSchema, taskWithUsageSchema } from './response-schemas.js';
import { requireTaskMemoryScopes, taskMemoryScopesSchema } from './task-memory-scopes.js';

const tags = ['tasks'];

/** Task statuses, as the orchestrator reports them. */
export const taskStatuses = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** Body of `POST /v1/tasks`. */
export interface SubmitTaskBody {
  goal: string;
  repoPath: string;
  testCommand?: string[];
  project?: string;
  idempotencyKey?: string;
  budget?: { usd?: number; tokens?: number };
  workflow?: string;
  /** Whose preferences apply besides the project's: `user:<id>`, `team:<id>`. */
  memoryScopes?: string[];
}

const submitTaskSchema = {
  tags,
  summary: 'Submit a coding task (orchestrator SubmitTask)',
  response: { 201: ok('The task, also at the Location header', taskSchema), ...errorResponses(400, 409, 503) },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['goal', 'repoPath'],
    properties: {
      // The limits are the orchestrator's too (TaskLimits), so the edge never accepts what
      // SubmitTask would refuse. JSON schema cannot trim: a goal padded past the limit with
      // blanks is refused here although the orchestrator, which trims, would take it.
      goal: { type: 'string', minLength: 1, maxLength: TaskLimits.goalMaxChars, pattern: nonBlank },
      repoPath: { type: 'string', minLength: 1, maxLength: TaskLimits.repoPathMaxChars, pattern: nonBlank },
      // Left out, the orchestrator detects the command; `[]` is refused rather than read as
      // "detect" (gRPC callers cannot tell the two apart: for them empty means detect).
      testCommand: {
        type: 'array',
        minItems: 1,
        maxItems: TaskLimits.testCommandMaxArgs,
        items: { type: 'string', minLength: 1, maxLength: TaskLimits.testCommandArgMaxChars },
      },
      project: { type: 'string', minLength: 1, maxLength: TaskLimits.projectMaxChars, pattern: nonBlank },
      idempotencyKey: { type: 'string', minLength: 1, maxLength: TaskLimits.idempotencyKeyMaxChars },
      // What the task may spend on models; a limit left out (or 0) takes the configured default.
      budget: {
        type: 'object',
        additionalProperties: false,
        properties: {
          usd: { type: 'number', minimum: 0 },
          tokens: { type: 'integer', minimum: 0 },
        },
      },
      // A workflow definition to run instead of the one the goal's intent picks.
      workflow: {
        type: 'string',
        minLength: 1,
        maxLength: TaskLimits.workflowMaxChars,
        pattern: explainPattern(WORKFLOW_NAME_PATTERN, 'must be a workflow definition name'),
      },
      memoryScopes: taskMemoryScopesSchema,
    },
  },
} as const;

/** Query of `GET /v1/tasks`. */
export interface ListTasksQuery {
  limit?: number;
  status?: (typeof taskStatuses)[number];
  /** Goal contains (case-insensitive). */
  q?: string;
  pageToken?: string;
}

const listTasksSchema = {
  tags,
  summary: 'List tasks, newest first, one page (orchestrator ListTasks) with each one\'s cost so far (router)',
  response: {
    200: ok('One page; nextPageToken is "" on the last', {
      type: 'object',
      additionalProperties: false,
      required: ['tasks', 'nextPageToken'],
      properties: { tasks: { type: 'array', items: listedTaskSchema }, nextPageToken: { type: 'string' } },
    }),
    ...errorResponses(400, 503),
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 500 },
      status: { type: 'string', enum: taskStatuses },
      // The orchestrator's limit on `goal_contains`, so the edge never accepts what it refuses.
      q: { type: 'string', minLength: 1, maxLength: TaskLimits.goalContainsMaxChars, pattern: nonBlank },
      pageToken: pageTokenSchema,
    },
  },
} as const;

/** Query of `GET /v1/tasks/:id/steps`. */
export interface ListStepsQuery {
  subtaskId?: string;
  limit?: number;
  after?: string;
}

const listStepsSchema = {
  tags,
  summary: 'A task\'s recorded agent steps, oldest first, one page (orchestrator ListAgentSteps)',
  response: {
    200: ok('One page; nextAfter is "" on the last', {
      type: 'object',
      additionalProperties: false,
      required: ['steps', 'nextAfter'],
      properties: { steps: { type: 'array', items: agentStepSchema }, nextAfter: { type: 'string' } },
    }),
    ...errorResponses(400, 404, 503),
  },
  params: idParamsSchema,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      subtaskId: { type: 'string', pattern: idPattern },
      // The orchestrator's largest page (ListAgentSteps refuses more).
      limit: { type: 'integer', minimum: 1, maximum: 1000 },
      // Cursors are base64url; anything else cannot be one.
      after: {
        type: 'string',
        maxLength: 2048,
        pattern: explainPattern('^[A-Za-z0-9_-]+$', 'must be the nextAfter of a previous page'),
      },
    },
  },
} as const;

/** Body of `POST /v1/tasks/:id/cancel` (optional). */
export interface CancelTaskBody {
  reason?: string;
}

const cancelTaskSchema = {
  tags,
  summary: 'Cancel a task (orchestrator CancelTask)',
  response: { 200: ok('The task', taskSchema), ...errorResponses(400, 404, 409, 503) },
  params: idParamsSchema,
  // No body at all is fine (fastify passes null); an object may carry a reason.
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { reason: { type: 'string', maxLength: TaskLimits.cancelReasonMaxChars } },
  },
} as const;

/** Registers the task routes. */
export function registerTaskRoutes(app: FastifyInstance, orchestrator: OrchestratorApi, router: RouterApi, logger: Logger): void {
  // Each listed task's cost so far, asked of the router in one call for the whole page; when
  // the router cannot answer, every task shows null (never made-up zeros) and the page is still
  // served.
  const withCosts = async (tasks: TaskJson[]): Promise<Array<TaskJson & { usage: ReturnType<typeof toTaskCostJson> | null }>> => {
    if (tasks.length === 0) return [];
    try {
      const { usages } = await router.listTaskUsageTotals({ taskIds: [...new Set(tasks.map((task) => task.id))] });
      const byTask = new Map(usages.map((u) => [u.taskId, u]));
      return tasks.map((task) => {
        const usage = byTask.get(task.id);
        return { ...task, usage: usage ? toTaskCostJson(usage) : null };
      });
    } catch (err) {
      logger.warn('task list shown without usage', { tasks: tasks.length, err });
      return tasks.map((task) => ({ ...task, usage: null }));
    }
  };

  app.post<{ Body: SubmitTaskBody }>('/v1/tasks', { schema: submitTaskSchema, config: { scope: 'submit' } }, async (request, reply) => {
    const body = request.body;
    const task = await orchestrator.submitTask({ tenant: request.principal.tenant,
      goal: body.goal,
      repoPath: body.repoPath,
      testCommand: body.testCommand ?? [],
      project: body.project ?? '',
      idempotencyKey: body.idempotencyKey ?? '',
      budget: body.budget !== undefined ? { usd: body.budget.usd ?? 0, tokens: body.budget.tokens ?? 0 } : undefined,
      workflow: body.workflow ?? '',
      memoryScopes: requireTaskMemoryScopes(body.memoryScopes),
    });
    return reply.code(201).header('location', `/v1/tasks/${encodeURIComponent(task.id)}`).send(toTaskJson(task));
  });

  const getTaskSchema = {
    tags,
    summary: 'One task with its usage per phase and per model (orchestrator GetTask, router GetTaskUsage)',
    params: idParamsSchema,
    response: { 200: ok('The task; usage null with usageError when the router could not say', taskWithUsageSchema), ...errorResponses(400, 404, 503) },
  };
  app.get<{ Params: IdParams }>('/v1/tasks/:id', { schema: getTaskSchema, config: { scope: 'read' } }, async (request) => {
    // Both asked at once. The usage totals live in the router's ledger; a task is still worth
    // showing when the router cannot answer: its usage is then null with the reason, never
    // made-up zeros.
    const [found, usage] = await Promise.allSettled([
      orchestrator.getTask({ tenant: request.principal.tenant, taskId: request.params.id }),
      router.getTaskUsage({ taskId: request.params.id }),
    ]);
    if (found.status === 'rejected') throw found.reason;
    const task = toTaskJson(found.value);
    if (usage.status === 'fulfilled') return { ...task, usage: toTaskUsageJson(usage.value), usageError: null };
    logger.warn('task usage unavailable', { taskId: task.id, err: usage.reason });
    return { ...task, usage: null, usageError: toMaestroError(usage.reason).message };
  });

  app.get<{ Querystring: ListTasksQuery }>('/v1/tasks', { schema: listTasksSchema, config: { scope: 'read' } }, async (request) => {
    const response = await withFieldNames(
      orchestrator.listTasks({ tenant: request.principal.tenant,
        // 0 and '' mean "the orchestrator's default" / "any status" / "any goal" / "first page" in the proto.
        limit: request.query.limit ?? 0,
        status: request.query.status ?? '',
        goalContains: request.query.q ?? '',
        pageToken: request.query.pageToken ?? '',
      }),
      // The query calls the goal search `q`.
      { goal_contains: 'q' },
    );
    return { tasks: await withCosts(response.tasks.map(toTaskJson)), nextPageToken: response.nextPageToken };
  });

  app.get<{ Params: IdParams; Querystring: ListStepsQuery }>('/v1/tasks/:id/steps', { schema: listStepsSchema, config: { scope: 'read' } }, async (request) => {
    const response = await orchestrator.listAgentSteps({ tenant: request.principal.tenant,
      taskId: request.params.id,
      runId: '',
      // '' and 0 mean "every subtask" / "the orchestrator's default" in the proto.
      subtaskId: request.query.subtaskId ?? '',
      limit: request.query.limit ?? 0,
      after: request.query.after ?? '',
    });
    return { steps: response.steps.map(toAgentStepJson), nextAfter: response.nextAfter };
  });

  app.post<{ Params: IdParams; Body: CancelTaskBody | null }>(
    '/v1/tasks/:id/cancel',
    { schema: cancelTaskSchema, config: { scope: 'submit' } },
    async (request) => {
      const task = await orchestrator.cancelTask({ tenant: request.principal.tenant,
        taskId: request.params.id,
        reason: request.body?.reason ?? 'cancelled through the gateway',
      });
      return toTaskJson(task);
    },
  );
}
