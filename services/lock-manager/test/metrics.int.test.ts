/**
 * The lock-manager's metrics end to end: real work over gRPC (acquire, a conflict, a queued
 * wait, release) against real Redis and NATS, then a scrape of `/metrics`, parsed, showing
 * what moved: lock waits and holds, grants and conflicts, gRPC durations by method and code.
 */
import { Redis } from 'ioredis';
import { connectBus, type Bus } from '@maestro/bus';
import { LockServiceClient, Streams } from '@maestro/contracts';
import {
  createGrpcClient,
  createSilentLogger,
  parsePrometheusText,
  Registry,
  sampleValue,
  startMetricsServer,
  type GrpcClient,
  type GrpcServer,
  type MetricsServer,
} from '@maestro/runtime';
import { testKeyPrefix, testNamespace, testServers } from '@maestro/testing';
import { createLockManagerServer } from '../src/lock-manager-server.js';
import { RedisLockStore } from '../src/store/redis-lock-store.js';
import { createBusLockEventPublisher } from '../src/transport/nats/lock-event.publisher.js';

let redis: Redis;
let subscriber: Redis;
let keyPrefix: string;
let bus: Bus;
let store: RedisLockStore;
let server: GrpcServer;
let metrics: MetricsServer;
let client: GrpcClient<LockServiceClient>;

beforeAll(async () => {
  const logger = createSilentLogger();
  const registry = new Registry();
  redis = new Redis(testServers.redisUrl);
  subscriber = redis.duplicate();
  keyPrefix = testKeyPrefix('maestro-lock-metrics');
  bus = await connectBus({ url: testServers.natsUrl, name: 'lock-metrics-test', logger, namespace: testNamespace('lmm'), streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
  store = new RedisLockStore({ redis, subscriber, keyPrefix });
  server = createLockManagerServer({ address: '127.0.0.1:0', logger, store, events: createBusLockEventPublisher(bus), metrics: registry });
  const port = await server.start();
  metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, logger, registry });
  client = createGrpcClient(LockServiceClient, `127.0.0.1:${port}`, { deadlineMs: 10_000 });
});

afterAll(async () => {
  client.close();
  await server.shutdown();
  await metrics.close();
  await store.close();
  for (const spec of Object.values(Streams)) await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
  await bus.close();
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  subscriber.disconnect();
  await redis.quit();
});

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

it('a scrape after real lock work shows grants, conflicts, waits, holds and gRPC durations', async () => {
  const before = await scrape();
  expect(sampleValue(before, 'maestro_lock_requests_total')).toBe(0);

  const first = await client.call.acquire({ owner: 'exec-A', concerns: ['file:/repo/a.ts'], sharedConcerns: [], ttlMs: 30_000, waitMs: 0 });
  await expect(
    client.call.acquire({ owner: 'exec-B', concerns: ['file:/repo/a.ts'], sharedConcerns: [], ttlMs: 30_000, waitMs: 0 }),
  ).rejects.toMatchObject({ code: 'LOCK_CONFLICT' });
  // exec-C queues behind exec-A and is granted when exec-A releases.
  const queued = client.call.acquire({ owner: 'exec-C', concerns: ['dir:/repo'], sharedConcerns: [], ttlMs: 30_000, waitMs: 10_000 });
  await waitUntilQueued();
  await client.call.release({ leaseId: first.leaseId, owner: 'exec-A' });
  const second = await queued;
  await client.call.release({ leaseId: second.leaseId, owner: 'exec-C' });

  const after = await scrape();
  expect(sampleValue(after, 'maestro_lock_requests_total', { outcome: 'granted' })).toBe(2);
  expect(sampleValue(after, 'maestro_lock_requests_total', { outcome: 'conflict' })).toBe(1);
  expect(sampleValue(after, 'maestro_lock_wait_seconds_count', { outcome: 'granted' })).toBe(2);
  expect(sampleValue(after, 'maestro_lock_wait_seconds_count', { outcome: 'conflict' })).toBe(1);
  // The queued grant waited for exec-A to release: its wait is more than nothing.
  expect(sampleValue(after, 'maestro_lock_wait_seconds_sum', { outcome: 'granted' })).toBeGreaterThan(0);
  expect(sampleValue(after, 'maestro_lock_hold_seconds_count', { end: 'released' })).toBe(2);

  const grpc = { grpc_service: 'maestro.v1.LockService' };
  expect(sampleValue(after, 'maestro_grpc_server_handling_seconds_count', { ...grpc, grpc_method: 'Acquire', grpc_code: 'OK' })).toBe(2);
  expect(sampleValue(after, 'maestro_grpc_server_handling_seconds_count', { ...grpc, grpc_method: 'Acquire', grpc_code: 'FAILED_PRECONDITION' })).toBe(1);
  expect(sampleValue(after, 'maestro_grpc_server_handling_seconds_count', { ...grpc, grpc_method: 'Release', grpc_code: 'OK' })).toBe(2);
});

async function waitUntilQueued(): Promise<void> {
  for (;;) {
    const { waiters } = await client.call.inspect({ concernPrefix: '' });
    if (waiters.some((w) => w.owner === 'exec-C')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
