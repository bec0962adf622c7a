import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { LockServiceClient, OrchestratorServiceClient } from '@maestro/contracts';
import {
  CALL_ABORTED,
  createSilentLogger,
  fromGrpcError,
  ManualClock,
  OperationalError,
  parsePrometheusText,
  Registry,
  sampleValue,
  startMetricsServer,
  UserError,
  type MetricsServer,
  type ParsedMetrics,
} from '@maestro/runtime';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../test/fakes/index.js';
import { serve, type ServedApp } from '../test/serve.js';
import { createGatewayMetrics, grpcCodeOfFailure, instrumentGrpcClient, UNMATCHED_ROUTE } from './metrics.js';
import { authedFetch } from '../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

function serviceError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

describe('instrumentGrpcClient', () => {
  it('times each call by the gRPC service, method and final status, passing results and errors through', async () => {
    const registry = new Registry();
    const clock = new ManualClock(1_000);
    const unavailable = fromGrpcError(serviceError(GrpcStatus.UNAVAILABLE, 'connection refused'), 'inspect');
    const client = instrumentGrpcClient(
      {
        inspect: async (request: { prefix: string }) => {
          clock.advance(40);
          if (request.prefix === 'down') throw unavailable;
          return { leases: [request.prefix] };
        },
      },
      LockServiceClient.service,
      createGatewayMetrics(registry),
      clock,
    );
    await expect(client.inspect({ prefix: 'file:' })).resolves.toEqual({ leases: ['file:'] });
    await expect(client.inspect({ prefix: 'down' })).rejects.toBe(unavailable);

    const parsed = parsePrometheusText(await registry.metrics());
    const labels = { grpc_service: 'maestro.v1.LockService', grpc_method: 'Inspect' };
    expect(sampleValue(parsed, 'maestro_grpc_client_handling_seconds_count', { ...labels, grpc_code: 'OK' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_grpc_client_handling_seconds_sum', { ...labels, grpc_code: 'OK' })).toBeCloseTo(0.04);
    expect(sampleValue(parsed, 'maestro_grpc_client_handling_seconds_count', { ...labels, grpc_code: 'UNAVAILABLE' })).toBe(1);
  });

  it('names the status of every kind of failure the client helper reports', () => {
    expect(grpcCodeOfFailure(fromGrpcError(serviceError(GrpcStatus.DEADLINE_EXCEEDED, 'late'), 'getTask'))).toBe('DEADLINE_EXCEEDED');
    expect(grpcCodeOfFailure(fromGrpcError(serviceError(GrpcStatus.INTERNAL, 'bug'), 'getTask'))).toBe('INTERNAL');
    expect(grpcCodeOfFailure(new OperationalError(CALL_ABORTED, 'getTask: call cancelled'))).toBe('CANCELLED');
    // Not from the wire (an in-process fake): the status the error stands for.
    expect(grpcCodeOfFailure(new UserError('TASK_NOT_FOUND', 'no task t1', { reason: 'not_found' }))).toBe('NOT_FOUND');
    expect(grpcCodeOfFailure(new Error('boom'))).toBe('INTERNAL');
  });
});

describe('the gateway\'s /metrics after real requests', () => {
  let registry: Registry;
  let fakes: FakeUpstreams;
  let app: ServedApp;
  let metricsServer: MetricsServer;

  beforeAll(async () => {
    registry = new Registry();
    fakes = createFakeUpstreams();
    const metrics = createGatewayMetrics(registry);
    app = await serve(
      depsOf(fakes, { metrics: registry, orchestrator: instrumentGrpcClient(fakes.orchestrator, OrchestratorServiceClient.service, metrics) }),
    );
    metricsServer = await startMetricsServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger(), registry });
  });
  afterAll(async () => {
    await app.close();
    await metricsServer.close();
  });

  async function scrape(): Promise<ParsedMetrics> {
    const response = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`);
    expect(response.status).toBe(200);
    return parsePrometheusText(await response.text());
  }

  const requests = (parsed: ParsedMetrics, labels: Record<string, string>) =>
    sampleValue(parsed, 'maestro_http_server_request_duration_seconds_count', labels);

  it('counts requests by method, route pattern and status, never by the URL sent', async () => {
    expect((await fetch(`${app.url}/v1/tasks?limit=5`)).status).toBe(200);
    expect((await fetch(`${app.url}/v1/tasks/no-such-task-1`)).status).toBe(404);
    expect((await fetch(`${app.url}/v1/tasks/no-such-task-2`)).status).toBe(404);
    expect((await fetch(`${app.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
    expect((await fetch(`${app.url}/v1/not-a-route/abc`)).status).toBe(404);

    const parsed = await scrape();
    expect(requests(parsed, { method: 'GET', route: '/v1/tasks', status_code: '200' })).toBe(1);
    expect(requests(parsed, { method: 'GET', route: '/v1/tasks/:id', status_code: '404' })).toBe(2);
    expect(requests(parsed, { method: 'POST', route: '/v1/tasks', status_code: '400' })).toBe(1);
    expect(requests(parsed, { method: 'GET', route: UNMATCHED_ROUTE, status_code: '404' })).toBe(1);
    const routes = new Set(parsed.samples.filter((s) => s.name.startsWith('maestro_http_server_request_duration_seconds')).map((s) => s.labels.route));
    expect([...routes].filter((route) => route?.includes('no-such') || route?.includes('not-a-route') || route?.includes('?'))).toEqual([]);
    expect(parsed.types.get('maestro_http_server_request_duration_seconds')).toBe('histogram');

    // The upstream calls behind them, by gRPC method and status (the invalid submit never left).
    const orchestrator = { grpc_service: 'maestro.v1.OrchestratorService' };
    expect(sampleValue(parsed, 'maestro_grpc_client_handling_seconds_count', { ...orchestrator, grpc_method: 'ListTasks', grpc_code: 'OK' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_grpc_client_handling_seconds_count', { ...orchestrator, grpc_method: 'GetTask', grpc_code: 'NOT_FOUND' })).toBe(2);
    expect(parsed.samples.some((s) => s.labels.grpc_method === 'SubmitTask')).toBe(false);
  });

  it('shows server-sent-event streams while they are open, and the stream as a request once it ends', async () => {
    const open = async () => sampleValue(await scrape(), 'maestro_gateway_sse_streams_open');
    expect(await open()).toBe(0);
    const client = new AbortController();
    const response = await fetch(`${app.url}/v1/events`, { signal: client.signal });
    expect(response.status).toBe(200);
    await until(() => fakes.hub.lifecycleListenerCount === 1);
    expect(await open()).toBe(1);

    client.abort();
    await until(() => fakes.hub.lifecycleListenerCount === 0);
    let parsed = await scrape();
    // The stream's close reaches the server a moment after the listener is gone.
    while (requests(parsed, { method: 'GET', route: '/v1/events', status_code: '200' }) === 0) parsed = await scrape();
    expect(sampleValue(parsed, 'maestro_gateway_sse_streams_open')).toBe(0);
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
