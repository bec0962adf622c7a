import { Redis } from 'ioredis';
import { OperationalError } from '@maestro/runtime';
import { testKeyPrefix, testServers } from '@maestro/testing';
import { validateAcquire } from '../src/domain/lease.js';
import { RedisLockStore } from '../src/store/redis-lock-store.js';
import { defineLockStoreContract } from './lock-store.contract.js';

const REDIS_URL = testServers.redisUrl;

/** Deletes every key under `prefix`, so a run leaves Redis as it found it (and to simulate a restart). */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

const spec = (owner: string, concerns: string[], ttlMs = 60_000, waitMs = 0) => validateAcquire({ owner, concerns, ttlMs, waitMs });

defineLockStoreContract('RedisLockStore', async () => {
  const redis = new Redis(REDIS_URL);
  const keyPrefix = testKeyPrefix('maestro-lock-test');
  const store = new RedisLockStore({ redis, keyPrefix });
  return {
    store,
    elapse: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
    loseState: async () => {
      await deleteKeys(redis, keyPrefix);
      return store;
    },
    close: async () => {
      await store.close();
      await deleteKeys(redis, keyPrefix);
      await redis.quit();
    },
  };
});

describe('RedisLockStore in Redis', () => {
  let redis: Redis;
  let keyPrefix: string;
  const stores: RedisLockStore[] = [];
  const newStore = (options: Partial<ConstructorParameters<typeof RedisLockStore>[0]> = {}): RedisLockStore => {
    const store = new RedisLockStore({ redis, keyPrefix, ...options });
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    keyPrefix = testKeyPrefix('maestro-lock-test');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await deleteKeys(redis, keyPrefix);
    await redis.quit();
  });

  it('keeps a lease hash and the expiry index, and forgets the lease on release', async () => {
    const store = newStore();
    const lease = await store.acquire(validateAcquire({ owner: 'A', concerns: ['file:/r/a.ts'], sharedConcerns: ['dir:/r/lib'], ttlMs: 60_000, waitMs: 0 }));
    expect(await redis.hgetall(`${keyPrefix}lease:${lease.leaseId}`)).toEqual({
      owner: 'A',
      concerns: JSON.stringify(['file:/r/a.ts']),
      shared: JSON.stringify(['dir:/r/lib']),
      token: String(lease.fencingToken),
      expiresAt: String(lease.expiresAt),
    });
    expect(Number(await redis.zscore(`${keyPrefix}leases`, lease.leaseId))).toBe(lease.expiresAt);
    expect(await redis.get(`${keyPrefix}fence`)).toBe(String(lease.fencingToken));
    await store.release({ leaseId: lease.leaseId, owner: 'A' });
    expect(await redis.exists(`${keyPrefix}lease:${lease.leaseId}`)).toBe(0);
    expect(await redis.zcard(`${keyPrefix}leases`)).toBe(0);
  });

  it('issues tokens from Redis time in µs, so they keep rising after Redis forgets the counter', async () => {
    const store = newStore();
    const [seconds, micros] = await redis.time();
    const first = await store.acquire(spec('A', ['resource:x']));
    expect(first.fencingToken).toBeGreaterThanOrEqual(Number(seconds) * 1e6 + Number(micros));
    expect(Number.isSafeInteger(first.fencingToken)).toBe(true);
    await redis.del(`${keyPrefix}fence`);
    const second = await store.acquire(spec('B', ['resource:y']));
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
  });

  it('shares locks, the queue and tokens between replicas; a grant reaches the waiter on another replica', async () => {
    const one = newStore();
    const two = newStore();
    const held = await one.acquire(spec('A', ['dir:/shared']));
    await expect(two.acquire(spec('B', ['file:/shared/a.ts']))).rejects.toMatchObject({ code: 'LOCK_CONFLICT' });
    const waiting = two.acquire(spec('B', ['file:/shared/a.ts'], 60_000, 20_000));
    for (let i = 0; i < 100 && (await one.inspect('')).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await one.inspect('')).waiters).toEqual([expect.objectContaining({ owner: 'B' })]);
    await one.release({ leaseId: held.leaseId, owner: 'A' });
    const lease = await waiting;
    expect(lease).toMatchObject({ owner: 'B', concerns: ['file:/shared/a.ts'] });
    expect(lease.fencingToken).toBeGreaterThan(held.fencingToken);
    await expect(one.checkFence({ leaseId: lease.leaseId, fencingToken: lease.fencingToken })).resolves.toMatchObject({ owner: 'B' });
  });

  it('catches a grant notice missed while its subscriber was away, by one status read on reconnect', async () => {
    const subscriber = new Redis(REDIS_URL);
    const store = newStore({ subscriber });
    const other = newStore();
    const held = await other.acquire(spec('A', ['resource:m']));
    const waiting = store.acquire(spec('B', ['resource:m'], 60_000, 55_000));
    for (let i = 0; i < 100 && (await other.inspect('')).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // Cut the subscriber: the grant below is published while nobody of `store` listens.
    const ended = new Promise((resolve) => subscriber.once('end', resolve));
    subscriber.disconnect();
    await ended;
    await other.release({ leaseId: held.leaseId, owner: 'A' });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await subscriber.connect();
    // Resolved by the status read on reconnect, long before the wait's deadline (which would
    // also settle it, through the timeout script).
    const beforeDeadline = new Promise((resolve) => setTimeout(() => resolve('deadline fallback'), 10_000).unref());
    await expect(Promise.race([waiting, beforeDeadline])).resolves.toMatchObject({ owner: 'B' });
    await store.close();
    subscriber.disconnect();
  });

  it('frees the queue of a replica that went away: its entries go at their deadline', async () => {
    const gone = newStore();
    const live = newStore();
    const held = await live.acquire(spec('A', ['resource:c'], 60_000));
    // Put an entry of a crashed replica in the queue (nobody will ever time it out locally).
    const orphan = gone.acquire(spec('GONE', ['resource:c'], 60_000, 300)).catch((e: unknown) => e);
    for (let i = 0; i < 100 && (await live.inspect('')).waiters.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // Simulate the crash: forget its local waiter without telling Redis.
    (gone as unknown as { waiters: { rejectAll(e: unknown): void } }).waiters.rejectAll(new Error('crashed'));
    await orphan;
    await new Promise((r) => setTimeout(r, 500));
    const next = live.acquire(spec('B', ['resource:c'], 60_000, 5_000));
    await live.release({ leaseId: held.leaseId, owner: 'A' });
    await expect(next).resolves.toMatchObject({ owner: 'B' });
  });

  it('reports a Redis it cannot reach as a transient (operational) error', async () => {
    // Never connected and no offline queue: every command fails at once, as when Redis is down.
    const down = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const downStore = newStore({ redis: down });
    for (const call of [downStore.inspect(''), downStore.acquire(spec('A', ['port:1'])), downStore.acquire(spec('A', ['port:1'], 1_000, 1_000))]) {
      const err: unknown = await call.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationalError);
      expect((err as OperationalError).code).toBe('LOCK_STORE_UNAVAILABLE');
      expect((err as OperationalError).message).toMatch(/^lock store \(redis\) failed during (inspect|acquire|subscribe)/);
    }
    await downStore.close();
    stores.splice(stores.indexOf(downStore), 1);
    down.disconnect();
  });
});
