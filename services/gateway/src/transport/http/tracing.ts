/**
 * One server span per HTTP request, the first span of everything the request causes: a task
 * submitted here is one trace from this span through the orchestrator, the workflow-engine, the
 * executors and the router. An incoming `traceparent` is honoured, so a caller's own trace
 * continues. Route handlers run with the span active (their gRPC calls carry it); fastify runs
 * a POST's handler from the request body's stream events, outside any context set in a hook,
 * so the handler itself is wrapped rather than the hook chain.
 *
 * @example
 * const app = fastify();
 * registerHttpTracing(app); // before the routes: it wraps each route's handler as it is added
 * registerTaskRoutes(app, …);
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import {
  extractTraceContext,
  recordSpanFailure,
  SpanKind,
  startSpan,
  TraceAttributes,
  withActiveSpan,
  type Span,
} from '@maestro/runtime';

/** The `location` of a created task (`201` of `POST /v1/tasks`): its id names the trace's task. */
const CREATED_TASK = /^\/v1\/tasks\/([^/?#]+)$/;

const spans = new WeakMap<FastifyRequest, Span>();

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function endSpan(request: FastifyRequest, reply: FastifyReply): void {
  const span = spans.get(request);
  if (!span) return;
  spans.delete(request);
  span.setAttribute('http.response.status_code', reply.statusCode);
  const location = reply.getHeader('location');
  const created = typeof location === 'string' && reply.statusCode === 201 ? CREATED_TASK.exec(location) : null;
  if (created?.[1]) span.setAttribute(TraceAttributes.taskId, decodeURIComponent(created[1]));
  if (reply.statusCode >= 500) recordSpanFailure(span, new Error(`HTTP ${reply.statusCode}`));
  span.end();
}

/**
 * Adds the request span to `app`. Call before any route is registered: handlers are wrapped as
 * routes are added (`onRoute`), so routes added earlier run outside the span.
 */
export function registerHttpTracing(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const parent = extractTraceContext({
      get: (key) => headerValue(request.headers[key]),
      set: () => undefined,
    });
    const route = request.routeOptions.url ?? 'unmatched route';
    spans.set(
      request,
      startSpan(`${request.method} ${route}`, {
        kind: SpanKind.SERVER,
        parent,
        attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] ?? '' },
      }),
    );
  });

  app.addHook('onRoute', (routeOptions) => {
    const handler = routeOptions.handler as RouteHandlerMethod;
    routeOptions.handler = function tracedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const span = spans.get(request);
      return span ? withActiveSpan(span, () => handler.call(this, request, reply)) : handler.call(this, request, reply);
    } as typeof routeOptions.handler;
  });

  app.addHook('onError', async (request, _reply, error) => {
    const span = spans.get(request);
    if (span) recordSpanFailure(span, error);
  });
  app.addHook('onResponse', async (request, reply) => endSpan(request, reply));
  // A client that went away before the answer: the span still ends.
  app.addHook('onRequestAbort', async (request) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    span.setAttribute('http.request.aborted', true);
    span.end();
  });
}
