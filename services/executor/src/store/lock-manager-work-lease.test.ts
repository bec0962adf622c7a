import type { AcquireRequest, ExtendRequest, Lease, ReleaseRequest } from '@maestro/contracts';
import { ManualClock, OperationalError, UserError, createSilentLogger } from '@maestro/runtime';
import { LockManagerWorkLease } from './lock-manager-work-lease.js';
import type { LockClient } from './lock-manager-write-guard.js';

/** Settles every promise callback queued so far. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Grants at once; extensions answer as told (ok, gone, or unreachable). */
class FakeLockClient implements LockClient {
  readonly acquired: AcquireRequest[] = [];
  readonly extended: ExtendRequest[] = [];
  readonly released: ReleaseRequest[] = [];
  extension: 'ok' | 'lost' | 'fenced' | 'unreachable' = 'ok';

  async acquire(request: AcquireRequest): Promise<Lease> {
    this.acquired.push(request);
    return { leaseId: 'w1', owner: request.owner, concerns: request.concerns, fencingToken: 7, expiresAt: undefined } as unknown as Lease;
  }

  async extend(request: ExtendRequest): Promise<Lease> {
    this.extended.push(request);
    if (this.extension === 'lost') throw new UserError('LOCK_NOT_HELD', 'lease w1 is not held', { reason: 'precondition' });
    if (this.extension === 'fenced') throw new UserError('FENCED', 'lease w1 was granted to someone else', { reason: 'precondition' });
    if (this.extension === 'unreachable') throw new OperationalError('UNAVAILABLE', 'lock-manager unreachable');
    return { leaseId: request.leaseId, owner: request.owner, concerns: [] as string[], fencingToken: 7, expiresAt: undefined } as unknown as Lease;
  }

  async release(request: ReleaseRequest) {
    this.released.push(request);
    return { released: true };
  }

  async checkFence(): Promise<unknown> {
    throw new Error('the work lease never confirms a fence');
  }
}

const work = { taskId: 'task:1', subtaskId: 's1' };

function workLease(client: LockClient, w: { taskId: string; subtaskId: string }, clock: ManualClock) {
  return new LockManagerWorkLease({ client, work: w as never, owner: 'executor:e:task_3a1:s1', ttlMs: 15_000, clock, logger: createSilentLogger() });
}

describe('LockManagerWorkLease', () => {
  it("takes the work item's resource with a TTL of the ack wait, waiting up to twice it", async () => {
    const client = new FakeLockClient();
    const lease = workLease(client, work, new ManualClock(0));
    await lease.acquire();
    expect(client.acquired).toEqual([expect.objectContaining({ concerns: ['resource:work/task_3a1/s1'], ttlMs: 15_000, waitMs: 30_000, owner: 'executor:e:task_3a1:s1' })]);
    await lease.release();
    expect(client.released).toHaveLength(1);
  });

  it.each(['lost', 'fenced'] as const)('aborts `lost` at the first extension the lock-manager refuses (%s)', async (answer) => {
    const client = new FakeLockClient();
    const clock = new ManualClock(0);
    const lease = workLease(client, work, clock);
    await lease.acquire();
    // Extended every third of the TTL while all is well.
    await clock.advance(5_000);
    await settle();
    expect(client.extended).toHaveLength(1);
    expect(lease.lost.aborted).toBe(false);

    client.extension = answer;
    await clock.advance(5_000);
    await settle();
    expect(lease.lost.aborted).toBe(true);
    expect((lease.lost.reason as UserError).code).toBe(answer === 'lost' ? 'LOCK_NOT_HELD' : 'FENCED');
    await lease.release();
  });

  it('keeps the attempt going through a transient extension failure', async () => {
    const client = new FakeLockClient();
    const clock = new ManualClock(0);
    const lease = workLease(client, work, clock);
    await lease.acquire();
    client.extension = 'unreachable';
    await clock.advance(5_000);
    await settle();
    expect(client.extended).toHaveLength(1);
    expect(lease.lost.aborted).toBe(false);
    client.extension = 'ok';
    await clock.advance(5_000);
    await settle();
    expect(client.extended).toHaveLength(2);
    expect(lease.lost.aborted).toBe(false);
    await lease.release();
  });
});
