import { validateAcquire } from './lease.js';
import type { Lease } from './lease.js';
import { LockTable } from './lock-table.js';
import type { AcquireOutcome } from './lock-table.js';

const T0 = 1_000_000;
const spec = (owner: string, concerns: string[], opts: { shared?: string[]; ttlMs?: number; waitMs?: number } = {}) =>
  validateAcquire({ owner, concerns, sharedConcerns: opts.shared ?? [], ttlMs: opts.ttlMs ?? 1_000, waitMs: opts.waitMs ?? 0 });

function leaseOf(outcome: AcquireOutcome): Lease {
  if (outcome.kind !== 'granted') throw new Error(`expected a grant, got ${outcome.kind}`);
  return outcome.lease;
}

describe('LockTable', () => {
  it('grants, queues behind live leases and earlier waiters, and grants the queue in order on release', () => {
    const table = new LockTable();
    const a = leaseOf(table.acquire('a', spec('A', ['file:/r/a']), T0));
    const big = table.acquire('big', spec('BIG', ['dir:/r'], { waitMs: 5_000 }), T0);
    expect(big).toMatchObject({ kind: 'queued', blocker: { owner: 'A', queued: false }, waiter: { deadline: T0 + 5_000 } });
    const small = table.acquire('small', spec('S', ['file:/r/b'], { waitMs: 5_000 }), T0 + 1);
    expect(small).toMatchObject({ kind: 'queued', blocker: { owner: 'BIG', queued: true } });
    expect(table.acquire('x', spec('X', ['file:/q/x']), T0 + 2).kind).toBe('granted');

    const first = table.release({ leaseId: a.leaseId, owner: 'A' }, T0 + 10);
    expect(first.granted.map((g) => g.waiterId)).toEqual(['big']);
    const second = table.release({ leaseId: 'big', owner: 'BIG' }, T0 + 20);
    expect(second.granted.map((g) => g.waiterId)).toEqual(['small']);
    expect(second.granted[0]!.lease.fencingToken).toBeGreaterThan(first.granted[0]!.lease.fencingToken);
  });

  it('expires leases at expiresAt, grants their waiters and remembers them for CheckFence', () => {
    const table = new LockTable();
    const a = leaseOf(table.acquire('a', spec('A', ['port:1'], { ttlMs: 100 }), T0));
    table.acquire('b', spec('B', ['port:1'], { waitMs: 1_000 }), T0);
    expect(table.sweep(T0 + 99)).toEqual({ expired: [], granted: [] });
    const swept = table.sweep(T0 + 100);
    expect(swept.expired.map((l) => l.leaseId)).toEqual(['a']);
    expect(swept.granted.map((g) => g.waiterId)).toEqual(['b']);
    expect(() => table.checkFence({ leaseId: 'a', fencingToken: a.fencingToken }, T0 + 100)).toThrow(
      expect.objectContaining({ code: 'FENCED', details: expect.objectContaining({ newestToken: swept.granted[0]!.lease.fencingToken }) }),
    );
    expect(table.nextExpiry()).toBe(T0 + 100 + 1_000);
  });

  it('drops waiters at their deadline; timeout gives one last try and names the blocker', () => {
    const table = new LockTable();
    table.acquire('a', spec('A', ['port:1'], { ttlMs: 10_000 }), T0);
    table.acquire('b', spec('B', ['port:1'], { waitMs: 500 }), T0);
    const { outcome } = table.timeout('b', spec('B', ['port:1'], { waitMs: 500 }), T0 + 500);
    expect(outcome).toMatchObject({ kind: 'refused', blocker: { owner: 'A' } });
    expect(table.inspect(T0 + 500).waiters).toEqual([]);
  });

  it('cancel releases a grant that raced it and unblocks those behind', () => {
    const table = new LockTable();
    table.acquire('a', spec('A', ['dir:/c'], { ttlMs: 10_000 }), T0);
    table.acquire('b', spec('B', ['dir:/c'], { waitMs: 5_000 }), T0);
    table.acquire('c', spec('C', ['file:/c/x'], { waitMs: 5_000 }), T0);
    table.release({ leaseId: 'a', owner: 'A' }, T0 + 1);
    const cancelled = table.cancel('b', T0 + 2);
    expect(cancelled.released?.leaseId).toBe('b');
    expect(cancelled.granted.map((g) => g.waiterId)).toEqual(['c']);
  });

  it('answers a release of an ended lease with nothing until the retention passes, then refuses it as no such lease', () => {
    const table = new LockTable({ endedMemoryMs: 1_000 });
    table.acquire('rel', spec('A', ['port:1'], { ttlMs: 10_000 }), T0);
    table.acquire('exp', spec('A', ['port:2'], { ttlMs: 100 }), T0);
    expect(table.release({ leaseId: 'rel', owner: 'A' }, T0).lease?.leaseId).toBe('rel');
    table.sweep(T0 + 100);
    // Within the retention (by `now`, with or without a sweep in between): nothing released, no error.
    expect(table.release({ leaseId: 'rel', owner: 'A' }, T0 + 999).lease).toBeUndefined();
    expect(table.release({ leaseId: 'exp', owner: 'A' }, T0 + 1_099).lease).toBeUndefined();
    expect(() => table.release({ leaseId: 'rel', owner: 'A' }, T0 + 1_000)).toThrow(
      expect.objectContaining({ code: 'LOCK_NOT_HELD', field: 'lease_id', details: expect.objectContaining({ why: 'no_such_lease' }) }),
    );
    table.sweep(T0 + 1_100);
    expect(() => table.release({ leaseId: 'exp', owner: 'A' }, T0 + 1_100)).toThrow(expect.objectContaining({ field: 'lease_id' }));
  });

  it('refuses a release of an id it never granted, and of a queued request, granting nothing', () => {
    const table = new LockTable();
    table.acquire('a', spec('A', ['port:1'], { ttlMs: 10_000 }), T0);
    table.acquire('b', spec('B', ['port:1'], { waitMs: 5_000 }), T0);
    for (const leaseId of ['never', 'b']) {
      expect(() => table.release({ leaseId, owner: 'B' }, T0 + 1)).toThrow(expect.objectContaining({ code: 'LOCK_NOT_HELD', field: 'lease_id' }));
    }
    expect(table.inspect(T0 + 1)).toMatchObject({ leases: [expect.objectContaining({ leaseId: 'a' })], waiters: [expect.objectContaining({ waiterId: 'b' })] });
  });

  it('issues tokens that keep rising for a new table (state lost) as the clock moves on', () => {
    const old = new LockTable();
    const t1 = leaseOf(old.acquire('1', spec('A', ['port:1']), T0)).fencingToken;
    const t2 = leaseOf(old.acquire('2', spec('A', ['port:2']), T0)).fencingToken;
    expect(t2).toBe(t1 + 1);
    const fresh = new LockTable();
    expect(leaseOf(fresh.acquire('3', spec('A', ['port:1']), T0 + 1)).fencingToken).toBeGreaterThan(t2);
  });
});
