import { Redis } from 'ioredis';
import { ManualClock, OperationalError } from '@maestro/runtime';
import { testKeyPrefix, testServers } from '@maestro/testing';
import { validateAcquire } from '../src/domain/lease.js';
import { RedisLockRetention } from '../src/store/redis-lock-scripts.js';
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

/** Polls `done` (bounded, 10 s) until it holds; fails naming `what` otherwise. */
async function pollUntil(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

/**
 * Waits for `promise`, failing with a message naming `what` if it has not settled within 10 s
 * (where the mechanism under test is broken it would otherwise never settle).
 */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never settled: ${what}`)), 10_000);
  });
  try {
    return await Promise.race([promise, never]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes `subscriber.subscribe` wait until `open()`; `held` counts the calls held back. */
function holdSubscribes(subscriber: Redis): { readonly held: number; open(): void } {
  const original = subscriber.subscribe.bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let held = 0;
  subscriber.subscribe = ((...args: unknown[]) => {
    held++;
    return opened.then(() => original(...args));
  }) as unknown as Redis['subscribe'];
  return {
    get held() {
      return held;
    },
    open,
  };
}

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

  it('remembers a released lease in ended:<id> for the retention, and knows no such lease once that key expires', async () => {
    const store = newStore();
    const lease = await store.acquire(spec('A', ['resource:kept']));
    await store.release({ leaseId: lease.leaseId, owner: 'A' });
    const ended = `${keyPrefix}ended:${lease.leaseId}`;
    const ttl = await redis.pttl(ended);
    expect(ttl).toBeGreaterThan(RedisLockRetention.endedMs - 60_000);
    expect(ttl).toBeLessThanOrEqual(RedisLockRetention.endedMs);
    await expect(store.release({ leaseId: lease.leaseId, owner: 'A' })).resolves.toBeUndefined();
    // What the retention running out does, without waiting 10 minutes.
    await redis.pexpire(ended, 1);
    await pollUntil(async () => (await redis.exists(ended)) === 0, 'ended key expired');
    await expect(store.release({ leaseId: lease.leaseId, owner: 'A' })).rejects.toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
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
    await pollUntil(async () => (await one.inspect('')).waiters.length === 1, 'the request is queued');
    expect((await one.inspect('')).waiters).toEqual([expect.objectContaining({ owner: 'B' })]);
    await one.release({ leaseId: held.leaseId, owner: 'A' });
    const lease = await waiting;
    expect(lease).toMatchObject({ owner: 'B', concerns: ['file:/shared/a.ts'] });
    expect(lease.fencingToken).toBeGreaterThan(held.fencingToken);
    await expect(one.checkFence({ leaseId: lease.leaseId, fencingToken: lease.fencingToken })).resolves.toMatchObject({ owner: 'B' });
  });

  it('grants a waiter of the replica that freed its concern from the script reply, without the grant channel', async () => {
    const subscriber = new Redis(REDIS_URL);
    // A manual clock that never moves: only the release itself can settle the request.
    const store = newStore({ subscriber, clock: new ManualClock() });
    const held = await store.acquire(spec('A', ['resource:d']));
    const waiting = store.acquire(spec('B', ['resource:d'], 60_000, 55_000));
    await pollUntil(async () => (await store.inspect('')).waiters.length === 1, 'the request is queued');
    // No notice can arrive any more: the subscriber is gone for good.
    const ended = new Promise((resolve) => subscriber.once('end', resolve));
    subscriber.disconnect();
    await ended;
    await store.release({ leaseId: held.leaseId, owner: 'A' });
    await expect(within(waiting, 'the grant this replica made')).resolves.toMatchObject({ owner: 'B', concerns: ['resource:d'] });
  });

  it('finds a grant whose reply was lost by one status read once the command connection is back', async () => {
    const commands = new Redis(REDIS_URL);
    // A manual clock that never moves: the wait's deadline cannot settle the request.
    const store = newStore({ redis: commands, replicaId: 'replica-1', clock: new ManualClock() });
    // The same replica id on another connection: its release tells the grant in its own reply,
    // which `store` never sees, and publishes no notice — as if `store` had lost that reply.
    const twin = newStore({ replicaId: 'replica-1' });
    const held = await twin.acquire(spec('A', ['resource:l']));
    const waiting = store.acquire(spec('B', ['resource:l'], 60_000, 55_000));
    await pollUntil(async () => (await twin.inspect('')).waiters.length === 1, 'the request is queued');
    await twin.release({ leaseId: held.leaseId, owner: 'A' });
    expect((await twin.inspect('')).leases).toEqual([expect.objectContaining({ owner: 'B' })]);
    commands.disconnect(true);
    await expect(within(waiting, 'the grant whose reply was lost')).resolves.toMatchObject({ owner: 'B', concerns: ['resource:l'] });
    await store.close();
    commands.disconnect();
  });

  it('serves entries queued without a queue record (by an older version) and drops records of ids no longer queued', async () => {
    let made = 0;
    const store = newStore({ newRequestId: () => `request-${++made}` });
    const held = await store.acquire(spec('A', ['resource:o']));
    const waiting = store.acquire(spec('B', ['resource:o'], 60_000, 20_000));
    await pollUntil(async () => (await store.inspect('')).waiters.length === 1, 'the request is queued');
    await redis.hdel(`${keyPrefix}queued`, 'request-2');
    await redis.hset(`${keyPrefix}queued`, 'request-gone', `${Date.now() + 60_000}\n["resource:o"]\n[]`);
    await store.release({ leaseId: held.leaseId, owner: 'A' });
    await expect(within(waiting, 'the grant of the entry without a record')).resolves.toMatchObject({ leaseId: 'request-2', owner: 'B' });
    expect(await redis.exists(`${keyPrefix}queued`)).toBe(0);
  });

  it('catches a grant notice missed while its subscriber was away, by one status read on reconnect', async () => {
    const subscriber = new Redis(REDIS_URL);
    // A manual clock that never moves: the wait's deadline cannot settle the request, only the status read can.
    const store = newStore({ subscriber, clock: new ManualClock(), newRequestId: () => 'waiter-m' });
    const other = newStore();
    const held = await other.acquire(spec('A', ['resource:m']));
    const waiting = store.acquire(spec('B', ['resource:m'], 60_000, 55_000));
    await pollUntil(async () => (await other.inspect('')).waiters.length === 1, 'the request is queued');
    // Cut the subscriber: the grant below is published while nobody of `store` listens.
    const ended = new Promise((resolve) => subscriber.once('end', resolve));
    subscriber.disconnect();
    await ended;
    await other.release({ leaseId: held.leaseId, owner: 'A' });
    expect(await redis.hget(`${keyPrefix}waiter:waiter-m`, 'status')).toBe('granted');
    await subscriber.connect();
    await expect(within(waiting, 'the grant missed while disconnected')).resolves.toMatchObject({ leaseId: 'waiter-m', owner: 'B' });
    await store.close();
    subscriber.disconnect();
  });

  it('catches a grant published after the subscriber is ready again but before its channel is re-subscribed', async () => {
    const subscriber = new Redis(REDIS_URL);
    const store = newStore({ subscriber, clock: new ManualClock(), newRequestId: () => 'waiter-r' });
    const other = newStore();
    const held = await other.acquire(spec('A', ['resource:r']));
    const waiting = store.acquire(spec('B', ['resource:r'], 60_000, 55_000));
    await pollUntil(async () => (await other.inspect('')).waiters.length === 1, 'the request is queued');
    const ended = new Promise((resolve) => subscriber.once('end', resolve));
    subscriber.disconnect();
    await ended;
    // Hold every SUBSCRIBE of the reconnect (ioredis's own resubscribe and the store's) until the grant is out.
    const gate = holdSubscribes(subscriber);
    // Registered after the store's listener, so it runs once the store has reacted to `ready`.
    const ready = new Promise((resolve) => subscriber.once('ready', resolve));
    await subscriber.connect();
    await ready;
    await pollUntil(() => Promise.resolve(gate.held > 0), 'the channel is being re-subscribed');
    // The grant goes out in the gap: connected, not subscribed. The command connection is the one
    // the store's status read uses, so a read made on `ready` has run before this release.
    await other.release({ leaseId: held.leaseId, owner: 'A' });
    expect(await redis.hget(`${keyPrefix}waiter:waiter-r`, 'status')).toBe('granted');
    gate.open();
    await expect(within(waiting, 'the grant published before the channel was back')).resolves.toMatchObject({ leaseId: 'waiter-r', owner: 'B' });
    await store.close();
    subscriber.disconnect();
  });

  it('frees the queue of a replica that went away: its entries go at their deadline', async () => {
    // The crashed replica: a clock that never moves, so it never times its own waiter out.
    const gone = newStore({ clock: new ManualClock() });
    const live = newStore();
    const held = await live.acquire(spec('A', ['resource:c'], 60_000));
    // Its entry in the queue (the caller's promise settles only when the test closes `gone`).
    void gone.acquire(spec('GONE', ['resource:c'], 60_000, 300)).catch(() => undefined);
    await pollUntil(async () => (await live.inspect('')).waiters.length === 1, 'the entry is queued');
    // Inspect lists only entries before their deadline (by Redis's clock): wait until it is past.
    await pollUntil(async () => (await live.inspect('')).waiters.length === 0, "the entry's deadline passes");
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
