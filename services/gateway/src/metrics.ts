/**
 * The gateway's Prometheus metrics, recorded at its two edges so no route knows about them:
 *
 * - `maestro_http_server_request_duration_seconds{method, route, status_code}`: every HTTP
 *   request, from its arrival to the last byte of its answer (fastify's `elapsedTime`), by the
 *   route's pattern as registered (`/v1/tasks/:id`, never the URL a client sent, so the label
 *   values stay as few as the routes), or `unmatched` when no route took it. A server-sent-event
 *   stream counts once it ends, with the stream's whole life as its duration.
 * - `maestro_gateway_sse_streams_open`: server-sent-event streams open now (runs and `/v1/events`).
 * - `maestro_grpc_client_handling_seconds{grpc_service, grpc_method, grpc_code}`: every call to an
 *   upstream service, by its final status (the go-grpc-prometheus client labels). Failed calls are
 *   the samples whose `grpc_code` is not `OK` (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, …).
 */
import {
  CALL_ABORTED,
  defineGauge,
  defineHistogram,
  grpcCodeName,
  processRegistry,
  splitGrpcPath,
  systemClock,
  toGrpcStatus,
  toMaestroError,
  type Clock,
  type Histogram,
  type Registry,
} from '@maestro/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The `route` label of a request no route took (unknown paths, 404s). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Label names of the gRPC client histogram. */
export type GrpcClientLabel = 'grpc_service' | 'grpc_method' | 'grpc_code';

/** The gateway's metrics. */
export interface GatewayMetrics {
  readonly registry: Registry;
  readonly httpRequests: Histogram<'method' | 'route' | 'status_code'>;
  readonly upstreamCalls: Histogram<GrpcClientLabel>;
}

/** Something whose open streams can be counted (the app's `OpenStreams`). */
export interface CountsOpenStreams {
  readonly size: number;
}

/** The open-stream sources of each registry: one gauge sums them (several apps in one test process). */
const streamSources = new WeakMap<Registry, Set<CountsOpenStreams>>();

/** Defines the gateway's metrics on `registry`. */
export function createGatewayMetrics(registry: Registry = processRegistry()): GatewayMetrics {
  if (!streamSources.has(registry)) {
    const sources = new Set<CountsOpenStreams>();
    streamSources.set(registry, sources);
    defineGauge(registry, {
      name: 'maestro_gateway_sse_streams_open',
      help: 'Server-sent-event streams open now (a run\'s events and /v1/events).',
      collect() {
        let open = 0;
        for (const source of sources) open += source.size;
        this.set(open);
      },
    });
  }
  return {
    registry,
    httpRequests: defineHistogram(registry, {
      name: 'maestro_http_server_request_duration_seconds',
      help: 'Time from receiving an HTTP request to the end of its answer, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
    }),
    upstreamCalls: defineHistogram(registry, {
      name: 'maestro_grpc_client_handling_seconds',
      help: 'Time a gRPC call to an upstream service took, by service, method and final status code.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
    }),
  };
}

/**
 * Observes every request `app` answers. Register it on the root instance before the routes, so
 * it sees them all, the not-found handler included.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: GatewayMetrics): void {
  const observed = new WeakSet<FastifyRequest>();
  const observe = (request: FastifyRequest, reply: FastifyReply): void => {
    if (observed.has(request)) return;
    observed.add(request);
    metrics.httpRequests.observe(
      { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  };
  app.addHook('onResponse', async (request, reply) => {
    observe(request, reply);
  });
  // fastify runs onResponse when the answer finishes; a hijacked one (server-sent events) whose
  // client goes away never finishes, only closes, so it is observed then.
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => observe(request, reply));
  });
}

/** Counts `streams` in the open-stream gauge until the returned function is called. */
export function trackOpenStreams(metrics: GatewayMetrics, streams: CountsOpenStreams): () => void {
  const sources = streamSources.get(metrics.registry);
  sources?.add(streams);
  return () => {
    sources?.delete(streams);
  };
}

/** The gRPC status name of a failed call, as the client helper reported it. */
export function grpcCodeOfFailure(err: unknown): string {
  const error = toMaestroError(err);
  if (error.code === CALL_ABORTED) return 'CANCELLED';
  const cause = error.cause as { code?: unknown } | undefined;
  if (typeof cause?.code === 'number') return grpcCodeName(cause.code);
  // Not from the wire (a fake, or a failure before sending): the status the error stands for.
  return grpcCodeName(toGrpcStatus(error).code);
}

/** What a generated client constructor's `service` holds for each method: its gRPC path. */
export type GrpcServiceDefinition = Readonly<Record<string, { readonly path: string }>>;

/**
 * Wraps every method of `client` (a `createGrpcClient(...).call`) so each call's duration and
 * final status are observed; `service` (the generated constructor's `.service`) names the
 * methods as gRPC does. Results and errors pass through unchanged.
 */
export function instrumentGrpcClient<T extends object>(
  client: T,
  service: GrpcServiceDefinition,
  metrics: GatewayMetrics,
  clock: Pick<Clock, 'now'> = systemClock,
): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const names = splitGrpcPath(service[property]?.path ?? property);
      return async (...args: unknown[]) => {
        const started = clock.now();
        const observe = (grpc_code: string): void => metrics.upstreamCalls.observe({ ...names, grpc_code }, (clock.now() - started) / 1000);
        try {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          observe('OK');
          return result;
        } catch (err) {
          observe(grpcCodeOfFailure(err));
          throw err;
        }
      };
    },
  });
}
