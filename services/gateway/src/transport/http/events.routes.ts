/**
 * `GET /v1/events`: server-sent events of every run's and task's lifecycle (run.started,
 * run.transitioned, run.finished, task.updated) as they happen, for live lists. No replay and
 * no agent steps: a list reads its first page, then applies these. A heartbeat comment keeps
 * idle streams open; a client that leaves (or reads too slowly) frees its listener at once, and
 * a caller whose credential is revoked or expires gets a last `unauthenticated` event
 * (sse-stream.ts).
 */
import type { Logger } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import type { LifecycleEvents } from '../../ports.js';
import { errorResponses, eventStream } from './response-schemas.js';
import { eventNameOf } from './sse.js';
import { openSseStream, type SseStreamSettings } from './sse-stream.js';

/** What the global event stream needs. */
export interface EventRoutesDeps {
  events: LifecycleEvents;
  /** How streams are run (heartbeat, clock, slow-client bound, credential re-check). */
  sse: SseStreamSettings;
  logger: Logger;
}

const eventsSchema = {
  tags: ['events'],
  summary: 'Server-sent events of every run\'s and task\'s lifecycle, live (no replay, no agent steps)',
  response: { 200: eventStream('The event stream; `event:` is run.started, run.transitioned, run.finished or task.updated, and a last `unauthenticated` when the credential is revoked or expires'), ...errorResponses(503) },
} as const;

/** Registers `GET /v1/events`. */
export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  app.get('/v1/events', { schema: eventsSchema, config: { scope: 'read' } }, async (request, reply) => {
    const tenant = request.principal.tenant;
    let unlisten: () => void = () => undefined;
    const stream = openSseStream(reply, { ...deps.sse, principal: request.principal, logger: deps.logger, onEnd: () => unlisten() });
    if (!stream) return;
    unlisten = deps.events.listenAll((event) => {
      // Only the caller's tenant's runs and tasks: an event naming no tenant (published by a
      // version that did not set it) is not shown to anyone, since whose it is cannot be told.
      if (event.payload['tenant'] !== tenant) return;
      stream.event(eventNameOf(event.subject), event.payload);
    });
  });
}
