/**
 * The gateway's HTTP application: routes, validation and the one error handler, over the ports
 * of `ports.ts`. It opens no connection itself, so `main.ts` hands it real gRPC clients and the
 * NATS event hub, and tests hand it whatever they need.
 */
import { rejectNulCharacters, type Logger } from '@maestro/runtime';
import { Ajv, type Options as AjvOptions } from 'ajv';
import { fastify, type FastifyInstance } from 'fastify';
import type { HealthProbe, MemoryApi, OrchestratorApi, RunEvents, WorkflowApi, RouterApi } from './ports.js';
import { registerErrorHandling } from './transport/http/error-handler.js';
import { registerHealthRoutes } from './transport/http/health.routes.js';
import { registerMemoryRoutes } from './transport/http/memories.routes.js';
import { registerRunRoutes } from './transport/http/runs.routes.js';
import { OpenStreams } from './transport/http/sse.js';
import { registerTaskRoutes } from './transport/http/tasks.routes.js';
import { registerModelRoutes } from './transport/http/models.routes.js';

/** What {@link buildGatewayApp} is built from. */
export interface GatewayDeps {
  orchestrator: OrchestratorApi;
  workflow: WorkflowApi;
  memory: MemoryApi;
  router: RouterApi;
  /** Live run events (the NATS hub in production). */
  events: RunEvents;
  health: HealthProbe;
  logger: Logger;
  /** Interval of the SSE heartbeat comment. @default 15000 */
  sseHeartbeatMs?: number;
  /** Largest accepted request body in bytes. @default 1048576 */
  bodyLimit?: number;
}

const strictness: AjvOptions = { allErrors: false, removeAdditional: false, useDefaults: true, strict: true };

/**
 * One Ajv per part of the request. Bodies are JSON and must already have the right types, so
 * `"goal": 5` is an error rather than the string "5" (fastify's default coerces everywhere).
 * Path and query parameters are always text and are coerced (`?limit=10` → 10). Neither drops
 * unknown properties silently (fastify's default does): `additionalProperties: false` rejects.
 */
function createValidators(): Record<'body' | 'text', Ajv> {
  return {
    body: new Ajv({ ...strictness, coerceTypes: false }),
    text: new Ajv({ ...strictness, coerceTypes: true }),
  };
}

/** Builds the fastify instance with every route; call `listen` (or `inject`) on it. */
export function buildGatewayApp(deps: GatewayDeps): FastifyInstance {
  const app = fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // Closing ends SSE streams (preClose below); plain requests finish first.
    return503OnClosing: true,
  });
  const validators = createValidators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? validators.body : validators.text).compile(schema),
  );

  const logger = deps.logger;
  registerErrorHandling(app, logger);
  // PostgreSQL refuses NUL in text, so no route takes it: one check of what passed the
  // route's schema, answering 400 naming the field (`testCommand[1]`) before any upstream call.
  app.addHook('preHandler', async (request) => {
    rejectNulCharacters(request.query);
    rejectNulCharacters(request.body);
  });
  app.addHook('onResponse', async (request, reply) => {
    logger.debug('request served', {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });

  const streams = new OpenStreams();
  app.addHook('preClose', async () => {
    streams.closeAll();
  });

  registerHealthRoutes(app, deps.health);
  registerTaskRoutes(app, deps.orchestrator, deps.router, deps.logger);
  registerModelRoutes(app, deps.router);
  registerRunRoutes(app, {
    workflow: deps.workflow,
    orchestrator: deps.orchestrator,
    events: deps.events,
    streams,
    heartbeatMs: deps.sseHeartbeatMs ?? 15_000,
    logger: logger.child({ component: 'runs' }),
  });
  registerMemoryRoutes(app, deps.memory);
  return app;
}
