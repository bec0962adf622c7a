import { ManualClock } from '@maestro/runtime';
import { validateAcquire } from '../domain/lease.js';
import type { Lease } from '../domain/lease.js';
import type { Blocker } from '../domain/lock-errors.js';
import type { AcquireOutcome } from '../domain/lock-table.js';
import { LocalWaiters } from './queued-acquire.js';
import type { QueueBackend } from './queued-acquire.js';

const spec = validateAcquire({ owner: 'B', concerns: ['port:1'], ttlMs: 1_000, waitMs: 5_000 });
const blocker: Blocker = { concern: 'port:1', heldConcern: 'port:1', heldMode: 'exclusive', owner: 'A', leaseId: 'LA', queued: false };
const queued = (id: string): AcquireOutcome => ({
  kind: 'queued',
  blocker,
  waiter: { waiterId: id, owner: 'B', concerns: ['port:1'], sharedConcerns: [], ttlMs: 1_000, queuedAt: 0, deadline: 5_000 },
});
const lease = (id: string): Lease => ({ leaseId: id, owner: 'B', concerns: ['port:1'], sharedConcerns: [], fencingToken: 9, expiresAt: 2_000 });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function backend(overrides: Partial<QueueBackend> = {}): QueueBackend & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    acquire: (id) => {
      calls.push('acquire');
      return Promise.resolve(queued(id));
    },
    timeout: () => {
      calls.push('timeout');
      return Promise.resolve({ kind: 'refused', blocker });
    },
    cancel: () => {
      calls.push('cancel');
      return Promise.resolve(undefined);
    },
    ...overrides,
  };
}

describe('LocalWaiters', () => {
  it('resolves from a grant notice that arrives before the backend says "queued"', async () => {
    const waiters = new LocalWaiters(new ManualClock());
    const b = backend({
      acquire: (id) => {
        waiters.granted(id, { fencingToken: 9, expiresAt: 2_000 });
        return Promise.resolve(queued(id));
      },
    });
    await expect(waiters.acquire(b, 'R1', spec)).resolves.toEqual(lease('R1'));
  });

  it('asks the backend once at the deadline, and names the blocker with the wait', async () => {
    const clock = new ManualClock();
    const waiters = new LocalWaiters(clock);
    const b = backend();
    const result = waiters.acquire(b, 'R1', spec).catch((e: unknown) => e);
    await tick();
    clock.advance(4_999);
    expect(b.calls).toEqual(['acquire']);
    clock.advance(1);
    expect(await result).toMatchObject({ code: 'LOCK_CONFLICT', message: expect.stringContaining('after waiting 5000 ms') });
    expect(b.calls).toEqual(['acquire', 'timeout']);
  });

  it('on cancel, leaves the queue, reports a raced grant as released and ignores later notices', async () => {
    const clock = new ManualClock();
    const waiters = new LocalWaiters(clock);
    const b = backend({ cancel: () => Promise.resolve(lease('R1')) });
    const controller = new AbortController();
    const result = waiters.acquire(b, 'R1', spec, { signal: controller.signal }).catch((e: unknown) => e);
    await tick();
    controller.abort();
    waiters.granted('R1', { fencingToken: 9, expiresAt: 2_000 });
    expect(await result).toMatchObject({ code: 'LOCK_WAIT_CANCELLED', message: expect.stringContaining('raced the cancel was released') });
    expect(clock.pendingTimers).toBe(0);
  });

  it('tells onQueued once, and ignores notices for requests of other replicas', async () => {
    const waiters = new LocalWaiters(new ManualClock());
    const seen: string[] = [];
    const pending = waiters.acquire(backend(), 'R1', spec, { onQueued: (w, by) => seen.push(`${w.waiterId} behind ${by.owner}`) });
    await tick();
    waiters.granted('someone-else', { fencingToken: 1, expiresAt: 1 });
    expect(waiters.queuedIds()).toEqual(['R1']);
    waiters.granted('R1', { fencingToken: 9, expiresAt: 2_000 });
    await expect(pending).resolves.toEqual(lease('R1'));
    expect(seen).toEqual(['R1 behind A']);
    expect(waiters.queuedIds()).toEqual([]);
  });
});
