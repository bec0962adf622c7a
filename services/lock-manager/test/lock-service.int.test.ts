/**
 * The LockService end to end: a gRPC client on one side, the server on port 0 in the middle,
 * real Redis and real NATS (JetStream, in a namespace of its own) behind it.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { connectBus } from '@maestro/bus';
import type { Bus } from '@maestro/bus';
import { HealthClient, HealthCheckResponse_ServingStatus, LockEventSchema, LockServiceClient, LockWaitingEventSchema, Streams, Subjects } from '@maestro/contracts';
import type { LockEvent } from '@maestro/contracts';
import { createGrpcClient, createSilentLogger, MaestroError, OperationalError, UserError } from '@maestro/runtime';
import type { GrpcClient, GrpcServer } from '@maestro/runtime';
import { testKeyPrefix, testNamespace, testServers } from '@maestro/testing';
import { createLockManagerServer, LOCK_SERVICE_NAME } from '../src/lock-manager-server.js';
import { RedisLockStore } from '../src/store/redis-lock-store.js';
import { createBusLockEventPublisher } from '../src/transport/nats/lock-event.publisher.js';


let redis: Redis;
let keyPrefix: string;
let bus: Bus;
let server: GrpcServer;
let store: RedisLockStore;
let client: GrpcClient<LockServiceClient>;
/** Every lock event seen; `.waiting` carries its own shape, so fields are loosely typed. */
type SeenEvent = Partial<LockEvent> & Record<string, unknown>;
const events: Array<{ subject: string; event: SeenEvent }> = [];

beforeAll(async () => {
  redis = new Redis(testServers.redisUrl);
  keyPrefix = testKeyPrefix('maestro-lock-test');
  const logger = createSilentLogger();
  bus = await connectBus({
    url: testServers.natsUrl,
    name: 'lock-manager-test',
    logger,
    namespace: testNamespace('lm'),
    streamLimits: { storage: 'memory' },
  });
  await bus.ensureStreams();
  bus.subscribe('maestro.events.lock.>', LockEventSchema.partial().passthrough(), (event, subject) => events.push({ subject, event }));
  store = new RedisLockStore({ redis, keyPrefix });
  server = createLockManagerServer({
    address: '127.0.0.1:0',
    logger,
    store,
    events: createBusLockEventPublisher(bus),
  });
  const port = await server.start();
  client = createGrpcClient(LockServiceClient, `127.0.0.1:${port}`, { deadlineMs: 5_000 });
});

afterAll(async () => {
  client.close();
  await server.shutdown();
  await store.close();
  for (const spec of Object.values(Streams)) {
    await bus.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
  }
  await bus.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
});

async function errorOf(promise: Promise<unknown>): Promise<MaestroError> {
  const err: unknown = await promise.then(
    (value) => {
      throw new Error(`expected the call to fail, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MaestroError);
  return err as MaestroError;
}

/** Polls (bounded, 5 s) until `done` holds; fails naming `what` otherwise. */
async function pollUntil(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

/** Waits (bounded) until an event matching `predicate` has arrived. */
async function eventually(predicate: (e: { subject: string; event: SeenEvent }) => boolean): Promise<{ subject: string; event: SeenEvent }> {
  for (let i = 0; i < 100; i++) {
    const found = events.find(predicate);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('event never arrived');
}

it('reports SERVING on the standard health service', async () => {
  const health = createGrpcClient(HealthClient, `127.0.0.1:${server.port}`);
  try {
    const reply = await health.call.check({ service: LOCK_SERVICE_NAME });
    expect(reply.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  } finally {
    health.close();
  }
});

it('acquires, inspects, extends and releases a lease, publishing acquired and released events', async () => {
  const lease = await client.call.acquire({ sharedConcerns: [],
    owner: 'exec-1/sub-1',
    concerns: ['file:/repo/src/./a.ts', 'git-index:/repo/', 'file:/repo/src/a.ts'],
    ttlMs: 30_000,
    waitMs: 0,
  });
  // Normalized and de-duplicated on the way in.
  expect(lease.concerns).toEqual(['file:/repo/src/a.ts', 'git-index:/repo']);
  expect(lease.owner).toBe('exec-1/sub-1');
  expect(lease.fencingToken).toBeGreaterThan(0);
  expect(lease.expiresAt).toBeInstanceOf(Date);
  expect(lease.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 20_000);

  const inspected = await client.call.inspect({ concernPrefix: 'git-index:' });
  expect(inspected.leases.map((l) => l.leaseId)).toEqual([lease.leaseId]);

  const extended = await client.call.extend({ leaseId: lease.leaseId, owner: 'exec-1/sub-1', ttlMs: 120_000 });
  expect(extended.fencingToken).toBe(lease.fencingToken);
  expect(extended.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 100_000);

  expect(await client.call.release({ leaseId: lease.leaseId, owner: 'exec-1/sub-1' })).toEqual({ released: true });
  expect(await client.call.release({ leaseId: lease.leaseId, owner: 'exec-1/sub-1' })).toEqual({ released: false });
  expect((await client.call.inspect({ concernPrefix: '' })).leases).toEqual([]);

  const acquired = await eventually((e) => e.event.leaseId === lease.leaseId && e.event.reason === 'granted');
  expect(acquired.subject).toBe(Subjects.lockAcquired);
  expect(acquired.event).toMatchObject({
    owner: 'exec-1/sub-1',
    concerns: ['file:/repo/src/a.ts', 'git-index:/repo'],
    fencingToken: lease.fencingToken,
  });
  const released = await eventually((e) => e.event.leaseId === lease.leaseId && e.event.reason === 'released');
  expect(released.subject).toBe(Subjects.lockReleased);
  // One release event only: the second release found nothing.
  expect(events.filter((e) => e.subject === Subjects.lockReleased && e.event.leaseId === lease.leaseId)).toHaveLength(1);
});

it('refuses a held concern with LOCK_CONFLICT naming it and its owner', async () => {
  const held = await client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['port:8080'], ttlMs: 30_000, waitMs: 0 });
  const err = await errorOf(client.call.acquire({ sharedConcerns: [], owner: 'exec-B', concerns: ['port:08080'], ttlMs: 30_000, waitMs: 0 }));
  expect(err).toBeInstanceOf(UserError);
  expect(err.code).toBe('LOCK_CONFLICT');
  expect(err.message).toContain('port:8080 is held by exec-A');
  await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' });
});

it('lets a waiting acquire through once the holder releases', async () => {
  const held = await client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['resource:staging-db'], ttlMs: 30_000, waitMs: 0 });
  const waiting = client.call.acquire({ sharedConcerns: [], owner: 'exec-B', concerns: ['resource:staging-db'], ttlMs: 30_000, waitMs: 4_000 });
  // Released only once B waits in the queue: B must be granted by the release, not arrive after it.
  await pollUntil(
    async () => (await client.call.inspect({ concernPrefix: 'resource:staging-db' })).waiters.some((w) => w.owner === 'exec-B'),
    'exec-B waits in the queue',
  );
  await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' });
  const lease = await waiting;
  expect(lease.owner).toBe('exec-B');
  expect(lease.fencingToken).toBeGreaterThan(held.fencingToken);
  await client.call.release({ leaseId: lease.leaseId, owner: 'exec-B' });
});

it('hands the concerns back when the caller’s deadline passes while it waits', async () => {
  const held = await client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['resource:ci-runner'], ttlMs: 30_000, waitMs: 0 });
  const err = await errorOf(
    client.call.acquire({ sharedConcerns: [], owner: 'exec-B', concerns: ['resource:ci-runner'], ttlMs: 30_000, waitMs: 60_000 }, { deadlineMs: 300 }),
  );
  expect(err).toBeInstanceOf(OperationalError);
  expect(err.message).toMatch(/deadline/i);
  await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' });
  // The abandoned waiter must not keep the concern after its caller left: it leaves the queue,
  // or the grant that raced its cancel is released. Either way the concern ends up free.
  await pollUntil(async () => {
    const { leases, waiters } = await client.call.inspect({ concernPrefix: 'resource:ci-runner' });
    return leases.length === 0 && waiters.length === 0;
  }, 'resource:ci-runner is free of the abandoned waiter');
  const next = await client.call.acquire({ sharedConcerns: [], owner: 'exec-C', concerns: ['resource:ci-runner'], ttlMs: 30_000, waitMs: 0 });
  expect(next.owner).toBe('exec-C');
  await client.call.release({ leaseId: next.leaseId, owner: 'exec-C' });
});

it('rejects another owner’s extend and release with LOCK_NOT_HELD', async () => {
  const held = await client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['dir:/repo/src'], ttlMs: 30_000, waitMs: 0 });
  const extendErr = await errorOf(client.call.extend({ leaseId: held.leaseId, owner: 'exec-B', ttlMs: 1_000 }));
  expect(extendErr.code).toBe('LOCK_NOT_HELD');
  const releaseErr = await errorOf(client.call.release({ leaseId: held.leaseId, owner: 'exec-B' }));
  expect(releaseErr.code).toBe('LOCK_NOT_HELD');
  await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' });
});

it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
  const badConcern = await errorOf(
    client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['file:/ok', 'src/a.ts'], ttlMs: 1_000, waitMs: 0 }),
  );
  expect(badConcern.code).toBe('INVALID_ARGUMENT');
  expect(badConcern.field).toBe('concerns[1]');
  const noTtl = await errorOf(client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['port:1'], ttlMs: 0, waitMs: 0 }));
  expect(noTtl.field).toBe('ttl_ms');
  const noOwner = await errorOf(client.call.release({ leaseId: 'x', owner: '' }));
  expect(noOwner.field).toBe('owner');
  const dotDot = await errorOf(client.call.acquire({ sharedConcerns: ['file:/r/../etc/passwd'], owner: 'A', concerns: [], ttlMs: 1_000, waitMs: 0 }));
  expect(dotDot).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'shared_concerns[0]' });
  const outside = await errorOf(
    client.call.acquire({ sharedConcerns: [], repoRoot: '/work/r1', owner: 'A', concerns: ['dir:/work/r1/src', 'file:/work/r2/a'], ttlMs: 1_000, waitMs: 0 }),
  );
  expect(outside).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'concerns[1]' });
  expect(outside.message).toContain('outside repo_root /work/r1');
  const unknown = await errorOf(client.call.extend({ leaseId: 'no-such-lease', owner: 'A', ttlMs: 1_000 }));
  expect(unknown).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
  const badToken = await errorOf(client.call.checkFence({ leaseId: 'L', fencingToken: 0 }));
  expect(badToken).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'fencing_token' });
  // Nothing was granted by any of them.
  expect((await client.call.inspect({ concernPrefix: '' })).leases).toEqual([]);
});

it('refuses to release a lease id it never granted with FAILED_PRECONDITION LOCK_NOT_HELD naming lease_id, and frees nothing', async () => {
  const held = await client.call.acquire({ sharedConcerns: [], owner: 'exec-A', concerns: ['resource:never'], ttlMs: 30_000, waitMs: 0 });
  const err = await errorOf(client.call.release({ leaseId: 'no-such-lease', owner: 'exec-A' }));
  // FAILED_PRECONDITION on the wire: the client maps it back to a precondition UserError.
  expect(err).toBeInstanceOf(UserError);
  expect(err).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id', reason: 'precondition' });
  expect((err.cause as { code?: number }).code).toBe(GrpcStatus.FAILED_PRECONDITION);
  expect(err.message).toContain('no such lease no-such-lease');
  expect((await client.call.inspect({ concernPrefix: 'resource:never' })).leases.map((l) => l.leaseId)).toEqual([held.leaseId]);
  // A lease that ended is another matter: its repeated release answers released: false.
  expect(await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' })).toEqual({ released: true });
  expect(await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' })).toEqual({ released: false });
  expect(events.filter((e) => e.subject === Subjects.lockReleased && e.event.leaseId === 'no-such-lease')).toEqual([]);
});

it('checks fences: the live lease passes, a lease that expired and passed on is FENCED', async () => {
  const first = await client.call.acquire({ sharedConcerns: [], owner: 'writer-1', concerns: ['file:/fence/x'], ttlMs: 200, waitMs: 0 });
  expect(await client.call.checkFence({ leaseId: first.leaseId, fencingToken: first.fencingToken })).toMatchObject({
    leaseId: first.leaseId,
    owner: 'writer-1',
  });
  // Queued behind the first lease, and granted by its expiry (nobody releases it).
  const second = await client.call.acquire({ sharedConcerns: [], owner: 'writer-2', concerns: ['dir:/fence'], ttlMs: 30_000, waitMs: 4_000 });
  const err = await errorOf(client.call.checkFence({ leaseId: first.leaseId, fencingToken: first.fencingToken }));
  expect(err).toBeInstanceOf(UserError);
  expect(err.code).toBe('FENCED');
  expect(err.message).toContain(`newest token on an overlapping concern is ${second.fencingToken}`);
  // The expiry was seen by the sweeper and published once.
  const expired = await eventually((e) => e.event.leaseId === first.leaseId && e.event.reason === 'expired');
  expect(expired.subject).toBe(Subjects.lockExpired);
  expect(events.filter((e) => e.event.leaseId === first.leaseId && e.subject === Subjects.lockExpired)).toHaveLength(1);
  await client.call.release({ leaseId: second.leaseId, owner: 'writer-2' });
});

it('shows waiters in Inspect and publishes lock.waiting, then serves them in order', async () => {
  const held = await client.call.acquire({ sharedConcerns: ['dir:/q/lib'], owner: 'exec-A', concerns: ['file:/q/a.ts'], ttlMs: 30_000, waitMs: 0 });
  const waiting = client.call.acquire({ sharedConcerns: [], owner: 'exec-B', concerns: ['dir:/q'], ttlMs: 30_000, waitMs: 4_000 });
  const queued = await eventually((e) => e.subject === Subjects.lockWaiting && e.event.owner === 'exec-B' && e.event.concerns?.[0] === 'dir:/q');
  expect(queued.event).toMatchObject({ owner: 'exec-B', concerns: ['dir:/q'], blockedBy: { owner: 'exec-A', leaseId: held.leaseId } });
  // The payload is what the contract says a waiting event is.
  expect(LockWaitingEventSchema.safeParse(queued.event).success).toBe(true);
  const inspected = await client.call.inspect({ concernPrefix: 'dir:/q' });
  expect(inspected.leases.map((l) => l.leaseId)).toEqual([held.leaseId]);
  expect(inspected.leases[0]!.sharedConcerns).toEqual(['dir:/q/lib']);
  expect(inspected.waiters).toEqual([
    expect.objectContaining({ owner: 'exec-B', concerns: ['dir:/q'], sharedConcerns: [], queuedAt: expect.any(Date), deadline: expect.any(Date) }),
  ]);
  expect(inspected.waiters[0]!.deadline!.getTime() - inspected.waiters[0]!.queuedAt!.getTime()).toBe(4_000);
  await client.call.release({ leaseId: held.leaseId, owner: 'exec-A' });
  const lease = await waiting;
  expect(lease.leaseId).toBe(inspected.waiters[0]!.requestId);
  await client.call.release({ leaseId: lease.leaseId, owner: 'exec-B' });
});
