/**
 * `GET /v1/locks`: the lock-manager's leases and queued requests (Inspect), optionally only
 * those whose concerns start with a prefix, and only those of the caller's tenant's tasks (see
 * `tenant-locks.ts`). Executors hold leases as
 * `executor:<executorId>:<taskId>:<subtaskId>` (`parseExecutorLockOwner` of @maestro/contracts reads it).
 */
import type { FastifyInstance } from 'fastify';
import type { LockApi, OrchestratorApi } from '../../ports.js';
import { toLocksJson } from './locks.presenters.js';
import { visibleToTenant } from './tenant-locks.js';
import { errorResponses, locksSchema, ok } from './response-schemas.js';

/** Query of `GET /v1/locks`. */
interface LocksQuery {
  prefix?: string;
}

const locksRouteSchema = {
  tags: ['locks'],
  summary: 'Leases held and requests waiting (lock-manager Inspect)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { prefix: { type: 'string', minLength: 1, maxLength: 4096, description: 'only concerns starting with this' } },
  },
  response: { 200: ok('Leases and waiters', locksSchema), ...errorResponses(400, 503) },
} as const;

/** Registers the lock routes. */
export function registerLockRoutes(app: FastifyInstance, locks: LockApi, orchestrator: Pick<OrchestratorApi, 'getTask'>): void {
  app.get<{ Querystring: LocksQuery }>('/v1/locks', { schema: locksRouteSchema, config: { scope: 'read' } }, async (request) => {
    const table = await locks.inspect({ concernPrefix: request.query.prefix ?? '' });
    // Only the leases and waiters of the caller's tenant's tasks (the operator sees all).
    const [leases, waiters] = await Promise.all([
      visibleToTenant(table.leases, request.principal, orchestrator),
      visibleToTenant(table.waiters, request.principal, orchestrator),
    ]);
    return toLocksJson({ ...table, leases, waiters });
  });
}
