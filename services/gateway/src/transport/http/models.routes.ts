/**
 * `/v1/models/stats`: each model's measured calls, verdicts, tokens, cost and latency per
 * workflow phase (the router's GetModelStats over HTTP).
 */
import { ModelPhases } from '@maestro/contracts';
import type { FastifyInstance } from 'fastify';
import type { RouterApi } from '../../ports.js';
import { toModelStatsJson } from './presenters.js';
import { errorResponses, modelStatsSchema, ok } from './response-schemas.js';

/** The phases a model call may serve (the router's phases). */
export const modelPhases = ModelPhases;

/** Query of `GET /v1/models/stats`. */
export interface ModelStatsQuery {
  phase?: (typeof modelPhases)[number];
}

const modelStatsRouteSchema = {
  tags: ['models'],
  summary: 'Each model\'s measured calls, verdicts, tokens, cost and latency per phase (router GetModelStats)',
  response: { 200: ok('Per model and phase', modelStatsSchema), ...errorResponses(400, 503) },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { phase: { type: 'string', enum: modelPhases } },
  },
} as const;

/** Registers the model routes. */
export function registerModelRoutes(app: FastifyInstance, router: RouterApi): void {
  app.get<{ Querystring: ModelStatsQuery }>('/v1/models/stats', { schema: modelStatsRouteSchema, config: { scope: 'read' } }, async (request) =>
    toModelStatsJson(await router.getModelStats({ phase: request.query.phase ?? '' })),
  );
}
