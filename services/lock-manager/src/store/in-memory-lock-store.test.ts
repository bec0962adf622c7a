import { ManualClock } from '@maestro/runtime';
import { defineLockStoreContract } from '../../test/lock-store.contract.js';
import { validateAcquire } from '../domain/lease.js';
import { InMemoryLockStore } from './in-memory-lock-store.js';
import { RedisLockRetention } from './redis-lock-scripts.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

defineLockStoreContract('InMemoryLockStore', () => {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  let store = new InMemoryLockStore({ clock });
  return Promise.resolve({
    store,
    // Let pending calls reach their timers before time moves, and let woken ones run after.
    elapse: async (ms: number) => {
      await tick();
      clock.advance(ms);
      await tick();
    },
    loseState: async () => {
      await store.close();
      store = new InMemoryLockStore({ clock });
      return store;
    },
    close: () => store.close(),
  });
});

describe('InMemoryLockStore timers', () => {
  it('keeps one sweeper timer armed at the earliest expiry, and none once nothing is held', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new InMemoryLockStore({ clock });
    const spec = (concern: string, ttlMs: number) => validateAcquire({ owner: 'A', concerns: [concern], ttlMs, waitMs: 0 });
    await store.acquire(spec('port:1', 500));
    await store.acquire(spec('port:2', 300));
    expect(clock.pendingTimers).toBe(1);
    const expired: string[] = [];
    store.onExpired((lease) => expired.push(lease.concerns[0]!));
    clock.advance(300);
    expect(expired).toEqual(['port:2']);
    clock.advance(200);
    expect(expired).toEqual(['port:2', 'port:1']);
    expect(clock.pendingTimers).toBe(0);
    await store.close();
  });

  it('drops the deadline timer of a waiter that was granted', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new InMemoryLockStore({ clock });
    const held = await store.acquire(validateAcquire({ owner: 'A', concerns: ['port:1'], ttlMs: 60_000, waitMs: 0 }));
    const waiting = store.acquire(validateAcquire({ owner: 'B', concerns: ['port:1'], ttlMs: 60_000, waitMs: 30_000 }));
    await tick();
    expect(clock.pendingTimers).toBe(2); // sweeper + B's deadline
    await store.release({ leaseId: held.leaseId, owner: 'A' });
    await expect(waiting).resolves.toMatchObject({ owner: 'B' });
    expect(clock.pendingTimers).toBe(1); // the sweeper, for B's lease
    await store.close();
  });

  it('remembers an ended lease for as long as the Redis store does, by its clock, then knows no such lease', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new InMemoryLockStore({ clock });
    const held = await store.acquire(validateAcquire({ owner: 'A', concerns: ['port:1'], ttlMs: 60_000, waitMs: 0 }));
    await store.release({ leaseId: held.leaseId, owner: 'A' });
    clock.advance(RedisLockRetention.endedMs - 1);
    await expect(store.release({ leaseId: held.leaseId, owner: 'A' })).resolves.toBeUndefined();
    clock.advance(1);
    await expect(store.release({ leaseId: held.leaseId, owner: 'A' })).rejects.toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
    await store.close();
  });
});
