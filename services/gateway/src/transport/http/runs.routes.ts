/**
 * `/v1/runs`: workflow runs, read from the workflow-engine (one run with the steps its agents
 * took, read from the orchestrator; lists; history pages), a person's event for a gated state,
 * cancelling, and a run's live event stream.
 */
import { TaskLimits } from '@maestro/contracts';
import { OperationalError, invalidField, toMaestroError, type Logger } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import type { LockEvents, OrchestratorApi, RunEvents, WorkflowApi } from '../../ports.js';
import { readRunSteps, StepReadLimits, type RunSteps } from './agent-steps.js';
import { explainPattern, withFieldNames } from './error-handler.js';
import { toAgentStepJson, toRunJson } from './presenters.js';
import { errorResponses, eventStream, ok, runSchema, runSummarySchema, runWithStepsSchema, transitionSchema } from './response-schemas.js';
import { definitionNamePattern, idParamsSchema, nonBlank, pageTokenSchema, type IdParams } from './schemas.js';
import { streamRunEvents } from './sse.js';
import type { SseStreamSettings } from './sse-stream.js';
import { toRunHistoryJson, toRunSummaryJson } from './workflow.presenters.js';

/**
 * The engine's names for what the run routes call otherwise: the run is the path's `id` (the
 * engine checks it is a UUID), the run lists filter by `definition` and `version`.
 */
const runFieldNames = { run_id: 'id', definition_name: 'definition', definition_version: 'version' } as const;

/** Run statuses, as the workflow-engine reports them. */
export const runStatuses = ['running', 'done', 'failed', 'cancelled'] as const;

/** What the run routes need. */
export interface RunRoutesDeps {
  workflow: WorkflowApi;
  /** Where the runs' agent steps are recorded. */
  orchestrator: Pick<OrchestratorApi, 'listAgentSteps'>;
  events: RunEvents & LockEvents;
  /** How run event streams are run (heartbeat, clock, slow-client bound, credential re-check). */
  sse: SseStreamSettings;
  logger: Logger;
}

const tags = ['runs'];

/** Query of the run lists (`/v1/runs`, `/v1/definitions/:name/runs`). */
export interface ListRunsQuery {
  status?: (typeof runStatuses)[number];
  definition?: string;
  version?: number;
  limit?: number;
  pageToken?: string;
}

/** The query properties shared by both run lists. */
export const runListQueryProperties = {
  status: { type: 'string', enum: runStatuses },
  version: { type: 'integer', minimum: 1 },
  limit: { type: 'integer', minimum: 1, maximum: 500 },
  pageToken: pageTokenSchema,
} as const;

/** The answer of both run lists. */
export const runListResponse = ok('One page, newest first; nextPageToken is "" on the last', {
  type: 'object',
  additionalProperties: false,
  required: ['runs', 'nextPageToken'],
  properties: { runs: { type: 'array', items: runSummarySchema }, nextPageToken: { type: 'string' } },
});

const listRunsSchema = {
  tags,
  summary: 'List runs without their history (workflow ListRuns)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...runListQueryProperties,
      definition: { type: 'string', minLength: 1, maxLength: TaskLimits.workflowMaxChars, pattern: definitionNamePattern },
    },
  },
  response: { 200: runListResponse, ...errorResponses(400, 503) },
} as const;

/** Query of `GET /v1/runs/:id/history`. */
export interface RunHistoryQuery {
  afterSeq?: number;
  limit?: number;
}

const historySchema = {
  tags,
  summary: 'A run\'s transitions, oldest first, one page (workflow GetRunHistory)',
  params: idParamsSchema,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { afterSeq: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 5000 } },
  },
  response: {
    200: ok('One page; nextAfterSeq is 0 on the last', {
      type: 'object',
      additionalProperties: false,
      required: ['runId', 'transitions', 'nextAfterSeq'],
      properties: { runId: { type: 'string' }, transitions: { type: 'array', items: transitionSchema }, nextAfterSeq: { type: 'integer' } },
    }),
    ...errorResponses(400, 404, 503),
  },
} as const;

/** Body of `POST /v1/runs/:id/events`. */
export interface SendEventBody {
  type: string;
  payload?: Record<string, unknown>;
}

const sendEventSchema = {
  tags,
  summary: 'Send an event to a run, e.g. a person approving a gated state (workflow SendEvent)',
  params: idParamsSchema,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        pattern: explainPattern('^(?!xstate\\.)\\S+$', 'must be an event type without blanks, not starting with "xstate."'),
      },
      payload: { type: 'object', additionalProperties: true },
    },
  },
  // The engine ignores an event the run's state does not take (or an ended run): 200, the run unchanged.
  response: { 200: ok('The run after the event (unchanged when its state does not take it)', runSchema), ...errorResponses(400, 404, 503) },
} as const;

/** Body of `POST /v1/runs/:id/cancel` (optional). */
export interface CancelRunBody {
  reason?: string;
}

const cancelRunSchema = {
  tags,
  summary: 'Cancel a running run; a run that has ended is returned as it is (workflow CancelRun)',
  params: idParamsSchema,
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { reason: { type: 'string', maxLength: TaskLimits.cancelReasonMaxChars, pattern: nonBlank } },
  },
  response: { 200: ok('The run', runSchema), ...errorResponses(400, 404, 503) },
} as const;

const getRunSchema = {
  tags,
  summary: 'One run with its history and its agents\' first 1000 steps (workflow GetRun, orchestrator ListAgentSteps)',
  params: idParamsSchema,
  response: { 200: ok('The run; stepsUnavailable when the orchestrator could not list the steps', runWithStepsSchema), ...errorResponses(400, 404, 503) },
} as const;

const runEventsSchema = {
  tags,
  summary: 'Server-sent events of one run: its history, recorded steps, then live events until it finishes',
  params: idParamsSchema,
  response: { 200: eventStream('The event stream (see the gateway README)'), ...errorResponses(400, 404, 503) },
} as const;

/**
 * A run's recorded steps, or undefined when the orchestrator cannot say: the run is the
 * workflow-engine's, and an orchestrator outage must not make it unreadable.
 */
async function stepsOrNothing(deps: RunRoutesDeps, tenant: string, runId: string): Promise<RunSteps | undefined> {
  try {
    return await readRunSteps(deps.orchestrator, tenant, runId, StepReadLimits.runSteps);
  } catch (err) {
    const error = toMaestroError(err);
    (error instanceof OperationalError ? deps.logger.warn : deps.logger.error).call(deps.logger, 'run shown without its agent steps', { runId, err });
    return undefined;
  }
}

/** Lists runs (newest first, without history) of one definition and version when given. */
export async function listRuns(workflow: WorkflowApi, tenant: string, query: ListRunsQuery): Promise<{ runs: ReturnType<typeof toRunSummaryJson>[]; nextPageToken: string }> {
  if (query.version !== undefined && query.definition === undefined) throw invalidField('version', 'needs definition (a version of which definition?)');
  const response = await withFieldNames(
    workflow.listRuns({ tenant,
      // 0 and '' mean "the engine's default" / "any" / "first page" in the proto.
      limit: query.limit ?? 0,
      status: query.status ?? '',
      definitionName: query.definition ?? '',
      definitionVersion: query.version ?? 0,
      pageToken: query.pageToken ?? '',
    }),
    runFieldNames,
  );
  return { runs: response.runs.map(toRunSummaryJson), nextPageToken: response.nextPageToken };
}

/** Registers the run routes. */
export function registerRunRoutes(app: FastifyInstance, deps: RunRoutesDeps): void {
  app.get<{ Querystring: ListRunsQuery }>('/v1/runs', { schema: listRunsSchema, config: { scope: 'read' } }, async (request) => listRuns(deps.workflow, request.principal.tenant, request.query));

  app.get<{ Params: IdParams }>('/v1/runs/:id', { schema: getRunSchema, config: { scope: 'read' } }, async (request) => {
    const runId = request.params.id;
    const [run, steps] = await Promise.all([withFieldNames(deps.workflow.getRun({ tenant: request.principal.tenant, runId }), runFieldNames), stepsOrNothing(deps, request.principal.tenant, runId)]);
    if (steps === undefined) return { ...toRunJson(run), stepsUnavailable: true };
    return { ...toRunJson(run), steps: steps.steps.map(toAgentStepJson), stepsNextAfter: steps.nextAfter, stepsUnavailable: false };
  });

  app.get<{ Params: IdParams; Querystring: RunHistoryQuery }>('/v1/runs/:id/history', { schema: historySchema, config: { scope: 'read' } }, async (request) =>
    toRunHistoryJson(
      await withFieldNames(
        deps.workflow.getRunHistory({ tenant: request.principal.tenant, runId: request.params.id, afterSeq: request.query.afterSeq ?? 0, limit: request.query.limit ?? 0 }),
        runFieldNames,
      ),
    ),
  );

  app.post<{ Params: IdParams; Body: SendEventBody }>('/v1/runs/:id/events', { schema: sendEventSchema, config: { scope: 'submit' } }, async (request) =>
    toRunJson(
      await withFieldNames(deps.workflow.sendEvent({ tenant: request.principal.tenant, runId: request.params.id, type: request.body.type, payload: request.body.payload ?? {} }), runFieldNames),
    ),
  );

  app.post<{ Params: IdParams; Body: CancelRunBody | null }>('/v1/runs/:id/cancel', { schema: cancelRunSchema, config: { scope: 'submit' } }, async (request) =>
    toRunJson(
      await withFieldNames(deps.workflow.cancelRun({ tenant: request.principal.tenant, runId: request.params.id, reason: request.body?.reason ?? 'cancelled through the gateway' }), runFieldNames),
    ),
  );

  app.get<{ Params: IdParams }>('/v1/runs/:id/events', { schema: runEventsSchema, config: { scope: 'read' } }, async (request, reply) => {
    // It throws before anything is written (an unknown run, a bad id), as an ordinary JSON error.
    const stream = streamRunEvents(reply, {
      ...deps.sse,
      tenant: request.principal.tenant,
      principal: request.principal,
      runId: request.params.id,
      workflow: deps.workflow,
      orchestrator: deps.orchestrator,
      events: deps.events,
      logger: deps.logger.child({ component: 'sse' }),
    });
    await withFieldNames(stream, runFieldNames);
  });
}
