/**
 * `GET /healthz`: is this gateway useful right now? It is when NATS is connected (live updates
 * work) and the orchestrator answers its grpc.health Check with SERVING (tasks can be taken).
 */
import type { FastifyInstance } from 'fastify';
import { UpstreamHealth, type HealthProbe } from '../../ports.js';
import { healthSchema, ok } from './response-schemas.js';

const healthRouteSchema = {
  tags: ['health'],
  summary: 'Whether this gateway can do its job: NATS connected and the orchestrator serving',
  response: { 200: ok('Ready', healthSchema), 503: ok('Not ready; the body says what is missing', healthSchema) },
} as const;

/** Body of `/healthz`, in both the 200 and the 503 case. */
export interface HealthBody {
  status: 'ok' | 'unavailable';
  nats: 'connected' | 'disconnected';
  orchestrator: UpstreamHealth;
}

/** Registers `/healthz`. */
export function registerHealthRoutes(app: FastifyInstance, health: HealthProbe): void {
  app.get('/healthz', { schema: healthRouteSchema, config: { public: true } }, async (_request, reply) => {
    const nats = health.natsConnected() ? 'connected' : 'disconnected';
    const orchestrator = await health.orchestrator();
    const ok = nats === 'connected' && orchestrator === UpstreamHealth.serving;
    const body: HealthBody = { status: ok ? 'ok' : 'unavailable', nats, orchestrator };
    return reply.code(ok ? 200 : 503).header('cache-control', 'no-store').send(body);
  });
}
