/**
 * gRPC request durations as every service inherits them from `createGrpcServer`: real calls
 * over a real connection, scraped from the metrics endpoint, by method and status code.
 */
import { LockServiceClient, LockServiceService } from '@maestro/contracts';
import {
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  invalidField,
  parsePrometheusText,
  Registry,
  sampleValue,
  startMetricsServer,
  unary,
  type GrpcServer,
  type MetricsServer,
} from '@maestro/runtime';

let server: GrpcServer;
let metrics: MetricsServer;
let client: ReturnType<typeof createGrpcClient<LockServiceClient>>;

beforeAll(async () => {
  const registry = new Registry();
  const logger = createSilentLogger();
  server = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.LockService'], metrics: registry });
  server.add(LockServiceService, {
    inspect: unary(async () => ({ leases: [], waiters: [] })),
    release: unary(async () => {
      throw invalidField('lease_id', 'lease_id is required');
    }),
  });
  const port = await server.start();
  metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, logger, registry });
  client = createGrpcClient(LockServiceClient, `127.0.0.1:${port}`, { deadlineMs: 5_000 });
});

afterAll(async () => {
  client.close();
  await server.shutdown();
  await metrics.close();
});

async function scrape() {
  return parsePrometheusText(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
}

describe('gRPC server metrics', () => {
  it('count each call with its duration under its method and final status code', async () => {
    await client.call.inspect({ concernPrefix: '' });
    await client.call.inspect({ concernPrefix: 'repo:' });
    await expect(client.call.release({ leaseId: '', owner: 'o' })).rejects.toMatchObject({ name: 'UserError' });

    const parsed = await scrape();
    const inspect = { grpc_service: 'maestro.v1.LockService', grpc_method: 'Inspect', grpc_code: 'OK' };
    const release = { grpc_service: 'maestro.v1.LockService', grpc_method: 'Release', grpc_code: 'INVALID_ARGUMENT' };
    expect(parsed.types.get('maestro_grpc_server_handling_seconds')).toBe('histogram');
    expect(sampleValue(parsed, 'maestro_grpc_server_handling_seconds_count', inspect)).toBe(2);
    expect(sampleValue(parsed, 'maestro_grpc_server_handling_seconds_count', release)).toBe(1);
    expect(sampleValue(parsed, 'maestro_grpc_server_handling_seconds_bucket', { ...inspect, le: '+Inf' })).toBe(2);
    expect(sampleValue(parsed, 'maestro_grpc_server_handling_seconds_sum', inspect)).toBeGreaterThan(0);
  });
});
