/**
 * `/v1/runs/:id` and its live event stream: workflow runs, read from the workflow-engine.
 */
import type { Logger } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import type { RunEvents, WorkflowApi } from '../../ports.js';
import { toRunJson } from './presenters.js';
import { idParamsSchema, type IdParams } from './schemas.js';
import { streamRunEvents, type OpenStreams } from './sse.js';

/** What the run routes need. */
export interface RunRoutesDeps {
  workflow: WorkflowApi;
  events: RunEvents;
  streams: OpenStreams;
  heartbeatMs: number;
  logger: Logger;
}

/** Registers the run routes. */
export function registerRunRoutes(app: FastifyInstance, deps: RunRoutesDeps): void {
  app.get<{ Params: IdParams }>('/v1/runs/:id', { schema: { params: idParamsSchema } }, async (request) => {
    return toRunJson(await deps.workflow.getRun({ runId: request.params.id }));
  });

  app.get<{ Params: IdParams }>('/v1/runs/:id/events', { schema: { params: idParamsSchema } }, async (request, reply) => {
    await streamRunEvents(reply, {
      runId: request.params.id,
      workflow: deps.workflow,
      events: deps.events,
      streams: deps.streams,
      heartbeatMs: deps.heartbeatMs,
      logger: deps.logger,
    });
  });
}
