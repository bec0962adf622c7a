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
    const waiters = new LocalWaiters({ clock: new ManualClock() });
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
    const waiters = new LocalWaiters({ clock });
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
    const waiters = new LocalWaiters({ clock });
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
    const waiters = new LocalWaiters({ clock: new ManualClock() });
    const seen: string[] = [];
    const pending = waiters.acquire(backend(), 'R1', spec, { onQueued: (w, by) => seen.push(`${w.waiterId} behind ${by.owner}`) });
    await tick();
    waiters.granted('someone-else', { fencingToken: 1, expiresAt: 1 });
    expect(waiters.pendingIds()).toEqual(['R1']);
    waiters.granted('R1', { fencingToken: 9, expiresAt: 2_000 });
    await expect(pending).resolves.toEqual(lease('R1'));
    expect(seen).toEqual(['R1 behind A']);
    expect(waiters.pendingIds()).toEqual([]);
  });

  describe('close()', () => {
    /** A backend whose answers the test gives, one call at a time. */
    function manualBackend(): QueueBackend & { calls: string[]; answer(call: string, value: unknown): void } {
      const calls: string[] = [];
      const waiting = new Map<string, (value: unknown) => void>();
      const call = <T>(name: string): Promise<T> => {
        calls.push(name);
        return new Promise<T>((resolve) => waiting.set(name, resolve as (value: unknown) => void));
      };
      return {
        calls,
        acquire: (id) => call(`acquire ${id}`),
        timeout: (id) => call(`timeout ${id}`),
        cancel: (id) => call(`cancel ${id}`),
        answer: (name, value) => {
          const resolve = waiting.get(name);
          if (!resolve) throw new Error(`no call ${name} is waiting for an answer (calls: ${calls.join(', ')})`);
          waiting.delete(name);
          resolve(value);
        },
      };
    }

    it.each([
      ['granted', { kind: 'granted', lease: lease('R1') }],
      ['queued', queued('R1')],
    ] as const)('hands back a request the backend %s after close() failed its caller, and waits for that', async (_, answer) => {
      const clock = new ManualClock();
      const waiters = new LocalWaiters({ clock });
      const b = manualBackend();
      const result = waiters.acquire(b, 'R1', spec).catch((e: unknown) => e);
      let closed = false;
      const closing = waiters.close().then(() => (closed = true));
      expect(await result).toMatchObject({ code: 'LOCK_WAIT_CANCELLED', message: expect.stringContaining('lock store is closing') });
      b.answer('acquire R1', answer);
      await tick();
      expect(b.calls).toEqual(['acquire R1', 'cancel R1']);
      expect(closed).toBe(false);
      b.answer('cancel R1', answer.kind === 'granted' ? lease('R1') : undefined);
      await closing;
      expect(clock.pendingTimers).toBe(0);
    });

    it('takes queued requests out of the queue and ignores grant notices that follow', async () => {
      const waiters = new LocalWaiters({ clock: new ManualClock() });
      const b = manualBackend();
      const result = waiters.acquire(b, 'R1', spec).catch((e: unknown) => e);
      b.answer('acquire R1', queued('R1'));
      await tick();
      const closing = waiters.close();
      // A cancel of a request ahead may grant this one: the notice must not reach a failed caller.
      waiters.granted('R1', { fencingToken: 9, expiresAt: 2_000 });
      expect(await result).toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
      expect(b.calls).toEqual(['acquire R1', 'cancel R1']);
      b.answer('cancel R1', lease('R1'));
      await closing;
      expect(waiters.pendingIds()).toEqual([]);
    });

    it("releases, by close()'s cancel, a lease the deadline call got as close() began", async () => {
      const clock = new ManualClock();
      const waiters = new LocalWaiters({ clock });
      const b = manualBackend();
      const result = waiters.acquire(b, 'R1', spec).catch((e: unknown) => e);
      b.answer('acquire R1', queued('R1'));
      await tick();
      clock.advance(spec.waitMs);
      expect(b.calls).toEqual(['acquire R1', 'timeout R1']);
      const closing = waiters.close();
      expect(await result).toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
      // close() cancels the queued request; the cancel runs after the timeout call in the store.
      expect(b.calls).toEqual(['acquire R1', 'timeout R1', 'cancel R1']);
      b.answer('timeout R1', { kind: 'granted', lease: lease('R1') });
      b.answer('cancel R1', lease('R1'));
      await closing;
    });

    it('waits for calls in flight at most closeTimeoutMs, then resolves', async () => {
      const clock = new ManualClock();
      const waiters = new LocalWaiters({ clock, closeTimeoutMs: 1_000 });
      const b = manualBackend();
      const result = waiters.acquire(b, 'R1', spec).catch((e: unknown) => e);
      let closed = false;
      const closing = waiters.close().then(() => (closed = true));
      await result;
      clock.advance(999);
      await tick();
      expect(closed).toBe(false);
      clock.advance(1);
      await closing;
      expect(clock.pendingTimers).toBe(0);
    });

    it('fails later acquires at once without asking the backend', async () => {
      const waiters = new LocalWaiters({ clock: new ManualClock() });
      await waiters.close();
      const b = backend();
      await expect(waiters.acquire(b, 'R2', spec)).rejects.toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
      expect(b.calls).toEqual([]);
    });
  });
});
