import { executorLockOwner, type AcquireRequest, type CheckFenceRequest, type ExtendRequest, type Lease, type ReleaseRequest } from '@maestro/contracts';
import { ManualClock, UserError, createSilentLogger, OperationalError, type Logger } from '@maestro/runtime';
import type { LeaseGrant } from '../domain/ports.js';
import { LockManagerWriteGuard, type LockClient } from './lock-manager-write-guard.js';

/** Settles every promise callback queued so far (the guard's calls resolve on microtasks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A scripted lock client: grants with increasing tokens, records calls, can lose leases or hold an acquire. */
class FakeLockClient implements LockClient {
  readonly acquired: AcquireRequest[] = [];
  readonly extended: ExtendRequest[] = [];
  readonly released: ReleaseRequest[] = [];
  readonly lost = new Set<string>();
  private token = 0;
  private pending: ((lease: Lease) => void) | undefined;
  holdNextAcquire = false;

  async acquire(request: AcquireRequest): Promise<Lease> {
    this.acquired.push(request);
    const lease: Lease = { leaseId: `l${this.acquired.length}`, owner: request.owner, concerns: request.concerns, fencingToken: ++this.token, expiresAt: undefined } as unknown as Lease;
    if (!this.holdNextAcquire) return lease;
    this.holdNextAcquire = false;
    return new Promise((resolve) => (this.pending = () => resolve(lease)));
  }

  grantHeld(): void {
    this.pending?.({} as Lease);
  }

  async extend(request: ExtendRequest): Promise<Lease> {
    this.extended.push(request);
    if (this.lost.has(request.leaseId)) throw new UserError('LOCK_NOT_HELD', `lease ${request.leaseId} is not held`, { reason: 'precondition' });
    return { leaseId: request.leaseId, owner: request.owner, concerns: [] as string[], fencingToken: this.token, expiresAt: undefined } as unknown as Lease;
  }

  async release(request: ReleaseRequest) {
    this.released.push(request);
    return { released: true };
  }

  readonly checked: CheckFenceRequest[] = [];
  /** Leases a newer grant has fenced off. */
  readonly fenced = new Set<string>();

  async checkFence(request: CheckFenceRequest): Promise<unknown> {
    this.checked.push(request);
    if (this.lost.has(request.leaseId)) throw new UserError('LOCK_NOT_HELD', `lease ${request.leaseId} is not held`, { reason: 'precondition' });
    if (this.fenced.has(request.leaseId)) throw new UserError('FENCED', 'a newer lease exists', { reason: 'precondition' });
    return {};
  }
}

function guardOver(client: LockClient, clock: ManualClock, grants: LeaseGrant[] = [], repoRoot?: string) {
  return new LockManagerWriteGuard({
    client,
    owner: executorLockOwner({ executorId: 'exec-a', taskId: 'task-1', subtaskId: 'sub-1' }),
    ttlMs: 3_000,
    waitMs: 1_234,
    ...(repoRoot !== undefined ? { repoRoot } : {}),
    clock,
    events: { onGranted: (grant) => grants.push(grant) },
    logger: createSilentLogger(),
  });
}

describe('LockManagerWriteGuard', () => {
  it('acquires missing concerns with the policy wait, reports the grant, and does not ask twice', async () => {
    const client = new FakeLockClient();
    const clock = new ManualClock(1_000);
    const grants: LeaseGrant[] = [];
    const guard = guardOver(client, clock, grants);
    await guard.acquire(['file:/r/a', 'file:/r/a']);
    await guard.acquire(['file:/r/a']);
    expect(client.acquired).toEqual([expect.objectContaining({ owner: 'executor:exec-a:task-1:sub-1', concerns: ['file:/r/a'], ttlMs: 3_000, waitMs: 1_234 })]);
    expect(grants).toEqual([{ concerns: ['file:/r/a'], fencingToken: 1, waitedMs: 0 }]);
    const held = await guard.hold(['git-index:/r'], 50);
    expect(client.acquired[1]).toMatchObject({ concerns: ['git-index:/r'], waitMs: 50 });
    expect(held).toEqual({ leaseId: 'l2', concerns: ['git-index:/r'], fencingToken: 2 });
    await guard.release();
  });

  it('sends the repository root with every acquire, so the lock-manager bounds the concerns by it', async () => {
    const client = new FakeLockClient();
    const guard = guardOver(client, new ManualClock(), [], '/work/r1');
    await guard.acquire(['file:/work/r1/src/a.ts']);
    await guard.hold(['git-index:/work/r1'], 50);
    expect(client.acquired).toEqual([
      expect.objectContaining({ concerns: ['file:/work/r1/src/a.ts'], repoRoot: '/work/r1' }),
      expect.objectContaining({ concerns: ['git-index:/work/r1'], repoRoot: '/work/r1' }),
    ]);
    // A guard without one (the work lease's) sends none: its resource: concern has no repository.
    const unbounded = new FakeLockClient();
    const workLeaseGuard = guardOver(unbounded, new ManualClock());
    await workLeaseGuard.acquire(['resource:work/t/s']);
    expect(unbounded.acquired[0]).not.toHaveProperty('repoRoot');
    await guard.release();
    await workLeaseGuard.release();
  });

  it('fails a write the lock-manager refuses as bad input with LOCK_REFUSED, a user error naming the field, not a transient one', async () => {
    const client = new FakeLockClient();
    const outside = new UserError('INVALID_ARGUMENT', 'concerns[0]: file:/work/r2/a.ts is outside repo_root /work/r1', { field: 'concerns[0]' });
    jest.spyOn(client, 'acquire').mockRejectedValueOnce(outside);
    const guard = guardOver(client, new ManualClock(), [], '/work/r1');
    const err: unknown = await guard.acquire(['file:/work/r2/a.ts']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'LOCK_REFUSED', field: 'concerns[0]', message: expect.stringContaining('outside repo_root /work/r1') });
    expect(guard.heldLeases).toBe(0);
    await guard.release();
  });

  it('ends quietly when the lock-manager no longer knows a lease at release (no such lease), and still releases the rest', async () => {
    const client = new FakeLockClient();
    const lines: Array<[string, string]> = [];
    const logger: Logger = {
      debug: (message) => lines.push(['debug', message]),
      info: (message) => lines.push(['info', message]),
      warn: (message) => lines.push(['warn', message]),
      error: (message) => lines.push(['error', message]),
      child: () => logger,
    };
    const guard = new LockManagerWriteGuard({ client, owner: 'o', ttlMs: 3_000, clock: new ManualClock(), logger });
    await guard.acquire(['file:/r/a']);
    await guard.acquire(['file:/r/b']);
    const noSuchLease = new UserError('LOCK_NOT_HELD', 'lease_id: no such lease l1', { reason: 'precondition', field: 'lease_id' });
    jest.spyOn(client, 'release').mockRejectedValueOnce(noSuchLease);
    await expect(guard.release()).resolves.toBeUndefined();
    expect(client.released.map((r) => r.leaseId)).toEqual(['l2']);
    expect(lines.filter(([level]) => level === 'warn' || level === 'error')).toEqual([]);
    expect(lines).toContainEqual(['info', 'lease unknown to the lock-manager at release; nothing left to release']);
  });

  it('extends every held lease each third of the TTL on the clock, re-arming one timer', async () => {
    const client = new FakeLockClient();
    const clock = new ManualClock();
    const guard = guardOver(client, clock);
    expect(clock.pendingTimers).toBe(0);
    await guard.acquire(['file:/r/a']);
    await guard.acquire(['file:/r/b']);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(999);
    await settle();
    expect(client.extended).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(client.extended.map((e) => e.leaseId)).toEqual(['l1', 'l2']);
    expect(client.extended[0]).toMatchObject({ owner: 'executor:exec-a:task-1:sub-1', ttlMs: 3_000 });
    // Re-armed after the round, never two at once.
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1_000);
    await settle();
    expect(client.extended).toHaveLength(4);
    await guard.release();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    await settle();
    expect(client.extended).toHaveLength(4);
  });

  it('forgets a lease the lock-manager lost, and asks for its concerns again before the next write', async () => {
    const client = new FakeLockClient();
    const clock = new ManualClock();
    const guard = guardOver(client, clock);
    await guard.acquire(['file:/r/a']);
    client.lost.add('l1');
    clock.advance(1_000);
    await settle();
    expect(guard.heldLeases).toBe(0);
    // Nothing left to extend: the timer is not re-armed.
    expect(clock.pendingTimers).toBe(0);
    await guard.acquire(['file:/r/a']);
    expect(client.acquired.map((a) => a.concerns)).toEqual([['file:/r/a'], ['file:/r/a']]);
    expect(clock.pendingTimers).toBe(1);
    await guard.release();
  });

  it('keeps a lease whose extension failed transiently, and tries again at the next interval', async () => {
    const client = new FakeLockClient();
    const clock = new ManualClock();
    const guard = guardOver(client, clock);
    await guard.acquire(['file:/r/a']);
    const extend = jest.spyOn(client, 'extend').mockRejectedValueOnce(new OperationalError('UNAVAILABLE', 'lock-manager unreachable'));
    clock.advance(1_000);
    await settle();
    expect(guard.heldLeases).toBe(1);
    clock.advance(1_000);
    await settle();
    expect(extend).toHaveBeenCalledTimes(2);
    await guard.release();
  });

  it('hands back a lease granted after release (the release race), and refuses the write', async () => {
    const client = new FakeLockClient();
    const clock = new ManualClock();
    const guard = guardOver(client, clock);
    client.holdNextAcquire = true;
    const write = guard.acquire(['file:/r/a']);
    await settle();
    await guard.release();
    client.grantHeld();
    await expect(write).rejects.toMatchObject({ code: 'WRITE_GUARD_RELEASED' });
    expect(client.released.map((r) => r.leaseId)).toEqual(['l1']);
    expect(clock.pendingTimers).toBe(0);
    await expect(guard.acquire(['file:/r/b'])).rejects.toMatchObject({ code: 'WRITE_GUARD_RELEASED' });
  });

  it('fails a write with LOCK_NOT_ACQUIRED naming the concerns and the wait when the lock-manager refuses', async () => {
    const client = new FakeLockClient();
    jest.spyOn(client, 'acquire').mockRejectedValueOnce(new OperationalError('LOCK_CONFLICT', 'held by someone else'));
    const guard = guardOver(client, new ManualClock());
    await expect(guard.acquire(['file:/r/a'])).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED', message: expect.stringContaining('file:/r/a within 1234 ms') });
    // The queue survives: the next write is asked for.
    await guard.acquire(['file:/r/a']);
    await guard.release();
  });

  it('confirms a lease with CheckFence: LOCK_NOT_HELD for a lost one, FENCED for one a newer grant replaced', async () => {
    const client = new FakeLockClient();
    const guard = guardOver(client, new ManualClock());
    const held = await guard.hold(['git-index:/r'], 100);
    await guard.confirm(held);
    client.lost.add('l1');
    await expect(guard.confirm(held)).rejects.toMatchObject({ code: 'LOCK_NOT_HELD' });

    const fencing = new FakeLockClient();
    const guard2 = guardOver(fencing, new ManualClock());
    const first = await guard2.hold(['git-index:/r'], 100);
    fencing.fenced.add('l1');
    await expect(guard2.confirm(first)).rejects.toMatchObject({ code: 'FENCED' });
    const second = await guard2.hold(['git-index:/s'], 100);
    await guard2.confirm(second);
    expect(fencing.checked).toEqual([{ leaseId: 'l1', fencingToken: 1 }, { leaseId: 'l2', fencingToken: 2 }]);
    // Confirming asks, it does not renew.
    expect(client.extended).toHaveLength(0);
    expect(fencing.extended).toHaveLength(0);
    // A lease released early is not current any more.
    await guard2.releaseLease(second.leaseId);
    await expect(guard2.confirm(second)).rejects.toMatchObject({ code: 'LOCK_NOT_HELD' });
    await guard.release();
    await guard2.release();
  });
});
