/**
 * `GET /v1/events`: server-sent events of every run's and task's lifecycle (run.started,
 * run.transitioned, run.finished, task.updated) as they happen, for live lists. No replay and
 * no agent steps: a list reads its first page, then applies these. A heartbeat comment keeps
 * idle streams open; a client that leaves (or reads too slowly) frees its listener at once.
 */
import type { Clock, Logger, Timer } from '@maestro/runtime';
import type { FastifyInstance } from 'fastify';
import type { LifecycleEvents } from '../../ports.js';
import { errorResponses, eventStream } from './response-schemas.js';
import { startHeartbeat } from './heartbeat.js';
import { SseWriter, eventNameOf, type OpenStreams } from './sse.js';

/** What the global event stream needs. */
export interface EventRoutesDeps {
  events: LifecycleEvents;
  streams: OpenStreams;
  heartbeatMs: number;
  /** What the heartbeat is timed by. */
  clock: Clock;
  /** Unsent bytes past which a slow client's stream is ended. @default DEFAULT_SSE_MAX_BUFFERED_BYTES */
  maxBufferedBytes?: number;
  logger: Logger;
}

const eventsSchema = {
  tags: ['events'],
  summary: 'Server-sent events of every run\'s and task\'s lifecycle, live (no replay, no agent steps)',
  response: { 200: eventStream('The event stream; `event:` is run.started, run.transitioned, run.finished or task.updated'), ...errorResponses(503) },
} as const;

/** Registers `GET /v1/events`. */
export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  app.get('/v1/events', { schema: eventsSchema, config: { scope: 'read' } }, async (request, reply) => {
    const tenant = request.principal.tenant;
    reply.hijack();
    let finished = false;
    let unlisten: () => void = () => undefined;
    let forget: () => void = () => undefined;
    let heartbeat: Timer | undefined;
    const finish = (why: string): void => {
      if (finished) return;
      finished = true;
      unlisten();
      forget();
      heartbeat?.cancel();
      writer.end();
      deps.logger.debug('event stream ended', { why });
    };
    const writer = new SseWriter(reply.raw, {
      ...(deps.maxBufferedBytes !== undefined ? { maxBufferedBytes: deps.maxBufferedBytes } : {}),
      onTooSlow: () => finish('client too slow'),
    });
    if (reply.raw.destroyed) return;
    reply.raw.on('close', () => finish('client closed'));
    forget = deps.streams.add(() => finish('gateway shutting down'));
    writer.open();
    unlisten = deps.events.listenAll((event) => {
      // Only the caller's tenant's runs and tasks: an event naming no tenant (published by a
      // version that did not set it) is not shown to anyone, since whose it is cannot be told.
      if (event.payload['tenant'] !== tenant) return;
      writer.event(eventNameOf(event.subject), event.payload);
    });
    heartbeat = startHeartbeat(deps.clock, deps.heartbeatMs, () => writer.comment('heartbeat'));
  });
}
