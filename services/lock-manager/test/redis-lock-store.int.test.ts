import { Redis } from 'ioredis';
import { OperationalError } from '@maestro/runtime';
import { testKeyPrefix, testServers } from '@maestro/testing';
import { validateAcquire } from '../src/domain/lease.js';
import { RedisLockStore } from '../src/store/redis-lock-store.js';
import { defineLockStoreContract } from './lock-store.contract.js';

const REDIS_URL = testServers.redisUrl;

/** Deletes every key under `prefix`, so a run leaves Redis as it found it. */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

defineLockStoreContract('RedisLockStore', async () => {
  const redis = new Redis(REDIS_URL);
  const keyPrefix = testKeyPrefix('maestro-lock-test');
  return {
    store: new RedisLockStore({ redis, keyPrefix }),
    elapse: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
    close: async () => {
      await deleteKeys(redis, keyPrefix);
      await redis.quit();
    },
  };
});

describe('RedisLockStore in Redis', () => {
  let redis: Redis;
  let keyPrefix: string;
  let store: RedisLockStore;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    keyPrefix = testKeyPrefix('maestro-lock-test');
    store = new RedisLockStore({ redis, keyPrefix });
  });
  afterEach(async () => {
    await deleteKeys(redis, keyPrefix);
    await redis.quit();
  });

  it('keeps one key per concern and a lease hash, both with the lease ttl', async () => {
    const lease = await store.acquire(
      validateAcquire({ owner: 'A', concerns: ['file:/r/a.ts', 'port:9000'], ttlMs: 60_000, waitMs: 0 }),
    );
    expect(await redis.get(`${keyPrefix}concern:file:/r/a.ts`)).toBe(lease.leaseId);
    expect(await redis.get(`${keyPrefix}concern:port:9000`)).toBe(lease.leaseId);
    const ttl = await redis.pttl(`${keyPrefix}concern:port:9000`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.hgetall(`${keyPrefix}lease:${lease.leaseId}`)).toEqual({
      owner: 'A',
      concerns: JSON.stringify(['file:/r/a.ts', 'port:9000']),
      token: String(lease.fencingToken),
      expiresAt: String(lease.expiresAt),
    });

    await store.release({ leaseId: lease.leaseId, owner: 'A' });
    expect(await redis.exists(`${keyPrefix}concern:file:/r/a.ts`, `${keyPrefix}lease:${lease.leaseId}`)).toBe(0);
  });

  it('keeps fencing tokens rising across store instances sharing a prefix (replicas)', async () => {
    const other = new RedisLockStore({ redis, keyPrefix });
    const first = await store.acquire(validateAcquire({ owner: 'A', concerns: ['resource:x'], ttlMs: 1_000, waitMs: 0 }));
    await store.release({ leaseId: first.leaseId, owner: 'A' });
    const second = await other.acquire(validateAcquire({ owner: 'B', concerns: ['resource:y'], ttlMs: 1_000, waitMs: 0 }));
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    // And the second instance sees the first's locks.
    await expect(
      other.acquire(validateAcquire({ owner: 'C', concerns: ['resource:y'], ttlMs: 1_000, waitMs: 0 })),
    ).rejects.toMatchObject({ code: 'LOCK_CONFLICT' });
  });

  it('reports a Redis it cannot reach as a transient (operational) error', async () => {
    // Never connected and no offline queue: every command fails at once, as when Redis is down.
    const down = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const downStore = new RedisLockStore({ redis: down, keyPrefix });
    const err: unknown = await downStore.inspect('').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect((err as OperationalError).code).toBe('LOCK_STORE_UNAVAILABLE');
    expect((err as OperationalError).message).toContain('lock store (redis) failed during inspect');
    down.disconnect();
  });
});
