/**
 * `/v1/runs/:id` and its live event stream: workflow runs, read from the workflow-engine, with
 * the steps their agents took, read from the orchestrator.
 */
import { OperationalError, toMaestroError, type Logger } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import type { OrchestratorApi, RunEvents, WorkflowApi } from '../../ports.js';
import { readRunSteps, StepReadLimits, type RunSteps } from './agent-steps.js';
import { toAgentStepJson, toRunJson } from './presenters.js';
import { idParamsSchema, type IdParams } from './schemas.js';
import { streamRunEvents, type OpenStreams } from './sse.js';

/** What the run routes need. */
export interface RunRoutesDeps {
  workflow: WorkflowApi;
  /** Where the runs' agent steps are recorded. */
  orchestrator: Pick<OrchestratorApi, 'listAgentSteps'>;
  events: RunEvents;
  streams: OpenStreams;
  heartbeatMs: number;
  logger: Logger;
}

/**
 * A run's recorded steps, or undefined when the orchestrator cannot say: the run is the
 * workflow-engine's, and an orchestrator outage must not make it unreadable.
 */
async function stepsOrNothing(deps: RunRoutesDeps, runId: string): Promise<RunSteps | undefined> {
  try {
    return await readRunSteps(deps.orchestrator, runId, StepReadLimits.runSteps);
  } catch (err) {
    const error = toMaestroError(err);
    (error instanceof OperationalError ? deps.logger.warn : deps.logger.error).call(deps.logger, 'run shown without its agent steps', {
      runId,
      code: error.code,
      err: error.message,
    });
    return undefined;
  }
}

/** Registers the run routes. */
export function registerRunRoutes(app: FastifyInstance, deps: RunRoutesDeps): void {
  app.get<{ Params: IdParams }>('/v1/runs/:id', { schema: { params: idParamsSchema } }, async (request) => {
    const runId = request.params.id;
    const [run, steps] = await Promise.all([deps.workflow.getRun({ runId }), stepsOrNothing(deps, runId)]);
    if (steps === undefined) return { ...toRunJson(run), stepsUnavailable: true };
    return { ...toRunJson(run), steps: steps.steps.map(toAgentStepJson), stepsNextAfter: steps.nextAfter, stepsUnavailable: false };
  });

  app.get<{ Params: IdParams }>('/v1/runs/:id/events', { schema: { params: idParamsSchema } }, async (request, reply) => {
    await streamRunEvents(reply, {
      runId: request.params.id,
      workflow: deps.workflow,
      orchestrator: deps.orchestrator,
      events: deps.events,
      streams: deps.streams,
      heartbeatMs: deps.heartbeatMs,
      logger: deps.logger.child({ component: 'sse' }),
    });
  });
}
