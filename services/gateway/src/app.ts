/**
 * The gateway's HTTP application: routes, validation and the one error handler, over the ports
 * of `ports.ts`. It opens no connection itself, so `main.ts` hands it real gRPC clients and the
 * NATS event hub, and tests hand it whatever they need.
 */
import { rejectNulCharacters, systemClock, type Clock, type Logger, type Registry } from '@maestro/runtime';
import { Ajv, type Options as AjvOptions } from 'ajv';
import { fastify, type FastifyInstance } from 'fastify';
import type { ApiKeyStore } from './auth/api-key-store.js';
import type { Authenticator } from './auth/authenticator.js';
import { LocalKeyRevocations } from './auth/local-key-revocations.js';
import { SharedKeyRechecks } from './auth/shared-key-rechecks.js';
import { createGatewayMetrics, registerHttpMetrics, trackOpenStreams } from './metrics.js';
import type { HealthProbe, KeyRevocations, LifecycleEvents, LockApi, LockEvents, MemoryApi, OrchestratorApi, RunEvents, WorkflowApi, RouterApi } from './ports.js';
import { registerDefinitionRoutes } from './transport/http/definitions.routes.js';
import { registerAuthentication } from './transport/http/authentication.js';
import { rejectNonFiniteNumbers } from './transport/http/reject-non-finite-numbers.js';
import { registerErrorHandling } from './transport/http/error-handler.js';
import { createClientErrorHandler, createFrameworkErrorHandler, maxPathParamChars } from './transport/http/framework-errors.js';
import { acceptJsonBodiesOnly } from './transport/http/json-bodies.js';
import { registerHttpTracing } from './transport/http/tracing.js';
import { registerEventRoutes } from './transport/http/events.routes.js';
import { registerHealthRoutes } from './transport/http/health.routes.js';
import { registerKeyRoutes } from './transport/http/keys.routes.js';
import { registerLockRoutes } from './transport/http/locks.routes.js';
import { registerMemoryRoutes } from './transport/http/memories.routes.js';
import { registerModelRoutes } from './transport/http/models.routes.js';
import { registerOpenApiGenerator, registerOpenApiRoutes } from './transport/http/openapi.js';
import { registerRunRoutes } from './transport/http/runs.routes.js';
import { OpenStreams } from './transport/http/open-streams.js';
import type { SseStreamSettings } from './transport/http/sse-stream.js';
import { registerTaskRoutes } from './transport/http/tasks.routes.js';
import { registerViewer } from './transport/http/viewer.js';

/** What {@link buildGatewayApp} is built from. */
export interface GatewayDeps {
  orchestrator: OrchestratorApi;
  workflow: WorkflowApi;
  memory: MemoryApi;
  router: RouterApi;
  locks: LockApi;
  /** Live events, per run, all lifecycle events and all lock events (the NATS hub in production). */
  events: RunEvents & LifecycleEvents & LockEvents;
  health: HealthProbe;
  /**
   * Who may call: every route but the public ones needs a credential the authenticator accepts
   * (there is no way to turn this off). `keys` serves `/v1/keys`; without it (OIDC only) there
   * are no key routes.
   */
  auth: { authenticator: Authenticator; keys?: ApiKeyStore };
  /**
   * Where revocations are announced and heard, so every replica's open streams of a revoked key
   * re-check at once (the bus in production). @default within this process only
   */
  keyRevocations?: KeyRevocations;
  logger: Logger;
  /** Interval of the SSE heartbeat comment, and of re-checking an open stream's API key. @default 15000 */
  sseHeartbeatMs?: number;
  /** Where the SSE heartbeats and token-expiry timers read time from (tests pass a `ManualClock`). @default systemClock */
  clock?: Clock;
  /** Largest accepted request body in bytes. @default 1048576 */
  bodyLimit?: number;
  /**
   * The viewer's build (packages/web/dist): served at `/` with index.html for client routes, or a
   * 503 page when it does not exist. No viewer routes at all when absent (API-only tests).
   */
  webDist?: string;
  /**
   * Where the HTTP request durations and the open-stream gauge are recorded (see `metrics.ts`).
   * @default processRegistry()
   */
  metrics?: Registry;
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
  const logger = deps.logger;
  const app = fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // Closing ends SSE streams (preClose below); plain requests finish first.
    return503OnClosing: true,
    // An over-long id reaches its route's schema (400 naming it) instead of fastify's 414; what
    // fastify and node still refuse themselves is answered in the standard shape.
    routerOptions: { maxParamLength: maxPathParamChars },
    frameworkErrors: createFrameworkErrorHandler(logger),
    clientErrorHandler: createClientErrorHandler(logger),
  });
  const validators = createValidators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? validators.body : validators.text).compile(schema),
  );
  // Response schemas document the API (openapi.ts) and are checked by the OpenAPI walk test;
  // they must not filter what is sent, so bodies are serialised as they are.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  registerErrorHandling(app, logger);
  // Before any route: non-JSON bodies get 415, and body routes document 413/415.
  acceptJsonBodiesOnly(app);
  // Before any route: it wraps each route's handler as the route is added.
  registerHttpTracing(app);
  // PostgreSQL refuses NUL in text, so no route takes it: one check of what passed the
  // route's schema, answering 400 naming the field (`testCommand[1]`) before any upstream call.
  app.addHook('preHandler', async (request) => {
    rejectNulCharacters(request.query);
    rejectNulCharacters(request.body);
    // `?limit=1e309` and a body's 1e309 arrive as Infinity, which Ajv's bounds let through.
    rejectNonFiniteNumbers(request.query);
    rejectNonFiniteNumbers(request.body);
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

  // On the root instance, before the routes: every request is observed, the 404s included.
  const metrics = createGatewayMetrics(deps.metrics);
  registerHttpMetrics(app, metrics);
  const untrackStreams = trackOpenStreams(metrics, streams);
  app.addHook('onClose', async () => {
    untrackStreams();
  });

  // After the tracing and metrics hooks (a refusal is traced and counted like any answer),
  // before any route: an unauthenticated request reaches no handler, body parser or stream.
  registerAuthentication(app, deps.auth.authenticator);

  // The OpenAPI generator learns routes as they are added, so it goes first and the routes are
  // added in a plugin that boots after it (handlers, hooks and compilers above apply to it).
  const clock = deps.clock ?? systemClock;
  // Every event stream runs the same way, and re-checks its caller's credential on its heartbeat:
  // the streams of one key share one key-store lookup per heartbeat period.
  const heartbeatMs = deps.sseHeartbeatMs ?? 15_000;
  const credentials = new SharedKeyRechecks({ credentials: deps.auth.authenticator, clock, logger: logger.child({ component: 'stream-auth' }), periodMs: heartbeatMs });
  const sse: SseStreamSettings = { streams, heartbeatMs, clock, credentials };
  const revocations = deps.keyRevocations ?? new LocalKeyRevocations();
  const unlistenRevocations = revocations.listen(({ keyId }) => credentials.revoked(keyId));
  app.addHook('onClose', async () => {
    unlistenRevocations();
  });
  registerOpenApiGenerator(app);
  void app.register(async (api) => {
    registerHealthRoutes(api, deps.health);
    registerTaskRoutes(api, deps.orchestrator, deps.router, deps.logger);
    registerModelRoutes(api, deps.router);
    registerRunRoutes(api, {
      workflow: deps.workflow,
      orchestrator: deps.orchestrator,
      events: deps.events,
      sse,
      logger: logger.child({ component: 'runs' }),
    });
    registerDefinitionRoutes(api, deps.workflow);
    registerLockRoutes(api, deps.locks, deps.orchestrator);
    registerEventRoutes(api, { events: deps.events, sse, logger: logger.child({ component: 'events' }) });
    registerMemoryRoutes(api, deps.memory);
    if (deps.auth.keys) registerKeyRoutes(api, { keys: deps.auth.keys, clock, revocations, logger: logger.child({ component: 'keys' }) });
    registerOpenApiRoutes(api);
    if (deps.webDist !== undefined) registerViewer(api, { distDir: deps.webDist, logger: logger.child({ component: 'viewer' }) });
  });
  return app;
}
