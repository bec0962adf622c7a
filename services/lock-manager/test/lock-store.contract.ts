/**
 * The one contract every `LockStore` adapter passes: hierarchical concerns, shared and
 * exclusive modes, all-or-none grants, the fair FIFO queue (no starvation, cancel leaves it),
 * expiry that grants the next waiter and is reported, fencing tokens that rise even after the
 * store loses everything, and CheckFence. Cases follow the lock models and scenarios in
 * `shared/corpora/locks/lock_models_and_scenarios.json` (the corpus test runs them in full).
 */
import { MaestroError } from '@maestro/runtime';
import { validateAcquire } from '../src/domain/lease.js';
import type { Lease } from '../src/domain/lease.js';
import type { AcquireOptions, LockStore } from '../src/store/lock-store.js';

/** What a contract run needs from an adapter. */
export interface LockStoreHarness {
  store: LockStore;
  /**
   * Lets `ms` of lock time pass: a manual clock advances, a real one (Redis) sleeps. Timings in
   * the suite leave wide margins either side so a busy machine cannot flip an outcome.
   */
  elapse(ms: number): Promise<void>;
  /**
   * The store loses every lease, waiter and counter (Redis: every key under the prefix is
   * deleted; memory: a new store on the same clock); returns the store to use from then on.
   */
  loseState(): Promise<LockStore>;
  /** Frees what the harness made (stores, keys, connections). */
  close(): Promise<void>;
}

/** Runs the LockStore contract against the adapter `factory` makes, one fresh harness per test. */
export function defineLockStoreContract(name: string, factory: () => Promise<LockStoreHarness>): void {
  describe(`LockStore contract: ${name}`, () => {
    let h: LockStoreHarness;
    let store: LockStore;

    beforeEach(async () => {
      h = await factory();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    const acquire = (
      owner: string,
      concerns: string[],
      opts: { ttlMs?: number; waitMs?: number; shared?: string[] } & AcquireOptions = {},
    ): Promise<Lease> =>
      store.acquire(
        validateAcquire({ owner, concerns, sharedConcerns: opts.shared ?? [], ttlMs: opts.ttlMs ?? 30_000, waitMs: opts.waitMs ?? 0 }),
        { signal: opts.signal, onQueued: opts.onQueued },
      );
    const release = (lease: Lease): Promise<Lease | undefined> => store.release({ leaseId: lease.leaseId, owner: lease.owner });

    /** Settles a promise into a value or the error it threw, so a rejection is never unhandled. */
    const outcome = <T>(promise: Promise<T>): Promise<T | MaestroError> =>
      promise.then(
        (value) => value,
        (err: unknown) => {
          if (err instanceof MaestroError) return err;
          throw err;
        },
      );

    const errorOf = async (promise: Promise<unknown>): Promise<MaestroError> => {
      const result = await outcome(promise);
      if (!(result instanceof MaestroError)) throw new Error(`expected a maestro error, got ${JSON.stringify(result)}`);
      return result;
    };

    /** Lets time pass (bounded) until `count` requests wait in the queue. */
    const untilWaiting = async (count: number): Promise<void> => {
      for (let i = 0; i < 300; i++) {
        if ((await store.inspect('')).waiters.length >= count) return;
        await h.elapse(10);
      }
      throw new Error(`never saw ${count} waiters`);
    };

    /** Lets time pass (bounded) until `done` holds. */
    const until = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !done(); i++) await h.elapse(10);
      if (!done()) throw new Error('condition never held');
    };

    /** Starts a waiting acquire and records the order in which waiting acquires are granted. */
    const order: string[] = [];
    beforeEach(() => {
      order.length = 0;
    });
    const waitFor = (owner: string, concerns: string[], opts: Parameters<typeof acquire>[2] = {}): Promise<Lease | MaestroError> =>
      outcome(
        acquire(owner, concerns, { waitMs: 60_000, ...opts }).then((lease) => {
          order.push(owner);
          return lease;
        }),
      );

    describe('grants and exclusion', () => {
      it('grants a free concern and reports it through inspect', async () => {
        const lease = await acquire('exec-1/sub-1', ['file:/repo/a.ts']);
        expect(lease).toMatchObject({ owner: 'exec-1/sub-1', concerns: ['file:/repo/a.ts'], sharedConcerns: [] });
        expect(lease.fencingToken).toBeGreaterThan(0);
        expect(lease.leaseId).not.toBe('');
        const snapshot = await store.inspect('');
        expect(snapshot.leases).toEqual([expect.objectContaining({ leaseId: lease.leaseId, owner: 'exec-1/sub-1' })]);
        expect(snapshot.waiters).toEqual([]);
      });

      it('refuses a held concern to another owner, naming the concern and its holder, and changes nothing', async () => {
        const a = await acquire('A', ['resource:db']);
        const err = await errorOf(acquire('B', ['resource:db']));
        expect(err.code).toBe('LOCK_CONFLICT');
        expect(err.message).toBe(`resource:db is held by A (lease ${a.leaseId}); retry later or wait longer (wait_ms)`);
        expect(err.details).toMatchObject({ concern: 'resource:db', owner: 'A', leaseId: a.leaseId, queued: false });
        expect((await store.inspect('resource:db')).leases.map((l) => l.leaseId)).toEqual([a.leaseId]);
      });

      it('refuses a second acquire by the same owner too (leases are not re-entrant)', async () => {
        await acquire('A', ['port:8080']);
        expect((await errorOf(acquire('A', ['port:8080']))).code).toBe('LOCK_CONFLICT');
      });

      it('grants exactly one of many simultaneous acquires of one concern', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(acquire(`racer-${i}`, ['git-index:/repo']))));
        expect(results.filter((r) => !(r instanceof MaestroError))).toHaveLength(1);
        const losers = results.filter((r): r is MaestroError => r instanceof MaestroError);
        expect(losers.every((e) => e.code === 'LOCK_CONFLICT')).toBe(true);
      });

      it('grants overlapping multi-concern requests all or none', async () => {
        const a = await acquire('A', ['file:/r/c1', 'file:/r/c2']);
        const err = await errorOf(acquire('B', ['file:/r/c3', 'file:/r/c2']));
        expect(err.details).toMatchObject({ concern: 'file:/r/c2', owner: 'A' });
        // c3 was not taken by B's failed attempt: C gets it at once.
        const c = await acquire('C', ['file:/r/c3']);
        expect((await store.inspect('file:/r/')).leases.map((l) => l.leaseId).sort()).toEqual([a.leaseId, c.leaseId].sort());
      });
    });

    describe('hierarchical concerns', () => {
      it('a dir covers the paths under it, in both directions', async () => {
        const dir = await acquire('A', ['dir:/r/src']);
        const below = await errorOf(acquire('B', ['file:/r/src/deep/a.ts']));
        expect(below.details).toMatchObject({ concern: 'file:/r/src/deep/a.ts', heldConcern: 'dir:/r/src', owner: 'A' });
        expect(below.message).toContain('file:/r/src/deep/a.ts overlaps dir:/r/src, held by A');
        await release(dir);
        const file = await acquire('B', ['file:/r/src/deep/a.ts']);
        const above = await errorOf(acquire('C', ['dir:/r/src']));
        expect(above.details).toMatchObject({ concern: 'dir:/r/src', heldConcern: 'file:/r/src/deep/a.ts', owner: 'B' });
        expect((await errorOf(acquire('C', ['dir:/r/src/deep'])))).toMatchObject({ code: 'LOCK_CONFLICT' });
        await release(file);
      });

      it('a repo covers its dirs and files, and is covered by a dir above it', async () => {
        const repo = await acquire('A', ['repo:/work/r1']);
        expect((await errorOf(acquire('B', ['dir:/work/r1/src']))).details).toMatchObject({ heldConcern: 'repo:/work/r1' });
        expect((await errorOf(acquire('B', ['file:/work/r1/README.md']))).details).toMatchObject({ heldConcern: 'repo:/work/r1' });
        expect((await errorOf(acquire('B', ['dir:/work']))).details).toMatchObject({ heldConcern: 'repo:/work/r1' });
        expect((await errorOf(acquire('B', ['file:/work/r1']))).code).toBe('LOCK_CONFLICT');
        await release(repo);
      });

      it('siblings, prefixes that are not parents, and files under files do not overlap', async () => {
        await acquire('A', ['dir:/r/src']);
        expect((await acquire('B', ['dir:/r/srcx'])).owner).toBe('B');
        expect((await acquire('C', ['file:/r/src2/a.ts'])).owner).toBe('C');
        expect((await acquire('D', ['dir:/r/lib'])).owner).toBe('D');
        await acquire('E', ['file:/f/a']);
        expect((await acquire('F', ['file:/f/a/b'])).owner).toBe('F');
      });

      it('git-index, port and resource stand alone: equal names only', async () => {
        await acquire('A', ['repo:/r']);
        expect((await acquire('B', ['git-index:/r'])).owner).toBe('B');
        expect((await acquire('C', ['resource:r'])).owner).toBe('C');
        expect((await errorOf(acquire('D', ['git-index:/r/']))).code).toBe('LOCK_CONFLICT');
      });

      it('dir:/ covers everything in the path space', async () => {
        await acquire('A', ['dir:/']);
        expect((await errorOf(acquire('B', ['file:/any/where']))).details).toMatchObject({ heldConcern: 'dir:/' });
        expect((await acquire('C', ['port:22'])).owner).toBe('C');
      });
    });

    describe('shared and exclusive modes', () => {
      it('shares overlapping shared concerns between readers', async () => {
        const r1 = await acquire('R1', [], { shared: ['dir:/r/src'] });
        const r2 = await acquire('R2', [], { shared: ['file:/r/src/a.ts', 'dir:/r/src'] });
        expect(r1.sharedConcerns).toEqual(['dir:/r/src']);
        expect(r1.concerns).toEqual([]);
        expect(r2.sharedConcerns).toEqual(['file:/r/src/a.ts', 'dir:/r/src']);
      });

      it('an exclusive concern conflicts with an overlapping shared one, both ways', async () => {
        const reader = await acquire('R', [], { shared: ['file:/r/a.ts'] });
        const writerErr = await errorOf(acquire('W', ['dir:/r']));
        expect(writerErr.details).toMatchObject({ concern: 'dir:/r', heldConcern: 'file:/r/a.ts', heldMode: 'shared', owner: 'R' });
        expect(writerErr.message).toContain('held (shared) by R');
        await release(reader);
        await acquire('W', ['dir:/r']);
        const readerErr = await errorOf(acquire('R2', [], { shared: ['file:/r/a.ts'] }));
        expect(readerErr.details).toMatchObject({ heldConcern: 'dir:/r', heldMode: 'exclusive', owner: 'W' });
      });

      it('one lease may hold exclusive and shared concerns; asking both ways keeps it exclusive', async () => {
        const lease = await acquire('A', ['file:/r/out.txt', 'file:/r/in.txt'], { shared: ['dir:/r/lib', 'file:/r/in.txt'] });
        expect(lease.concerns).toEqual(['file:/r/out.txt', 'file:/r/in.txt']);
        expect(lease.sharedConcerns).toEqual(['dir:/r/lib']);
        expect((await acquire('B', [], { shared: ['file:/r/lib/x.ts'] })).owner).toBe('B');
        expect((await errorOf(acquire('C', [], { shared: ['file:/r/in.txt'] }))).code).toBe('LOCK_CONFLICT');
      });
    });

    describe('the fair queue', () => {
      it('grants waiters in arrival order as the holders release (FIFO)', async () => {
        const a = await acquire('A', ['resource:q']);
        const b = waitFor('B', ['resource:q']);
        await untilWaiting(1);
        const c = waitFor('C', ['resource:q']);
        await untilWaiting(2);
        const d = waitFor('D', ['resource:q']);
        await untilWaiting(3);
        expect((await store.inspect('')).waiters.map((w) => w.owner)).toEqual(['B', 'C', 'D']);

        await release(a);
        const bLease = (await b) as Lease;
        expect(bLease.owner).toBe('B');
        expect(bLease.fencingToken).toBeGreaterThan(a.fencingToken);
        expect((await store.inspect('')).waiters.map((w) => w.owner)).toEqual(['C', 'D']);
        await release(bLease);
        const cLease = (await c) as Lease;
        await release(cLease);
        const dLease = (await d) as Lease;
        expect(order).toEqual(['B', 'C', 'D']);
        expect(dLease.fencingToken).toBeGreaterThan(cLease.fencingToken);
        expect(cLease.fencingToken).toBeGreaterThan(bLease.fencingToken);
      });

      it('serves a big request queued before small ones (no starvation)', async () => {
        const a = await acquire('A', ['file:/r/a.ts']);
        const big = waitFor('BIG', ['dir:/r']);
        await untilWaiting(1);
        // Free of live leases, but it clashes with BIG queued earlier: it must not jump ahead.
        const refused = await errorOf(acquire('S0', ['file:/r/b.ts']));
        expect(refused.details).toMatchObject({ owner: 'BIG', queued: true, heldConcern: 'dir:/r' });
        expect(refused.message).toContain('requested earlier by BIG');
        const small1 = waitFor('S1', ['file:/r/b.ts']);
        const small2 = waitFor('S2', ['file:/r/c.ts']);
        await untilWaiting(3);
        // Unrelated to everything live or queued: granted at once.
        expect((await acquire('X', ['file:/elsewhere/x.ts'])).owner).toBe('X');

        await release(a);
        const bigLease = (await big) as Lease;
        expect(bigLease.owner).toBe('BIG');
        expect(order).toEqual(['BIG']);
        await release(bigLease);
        await small1;
        await small2;
        expect(order.slice(1).sort()).toEqual(['S1', 'S2']);
      });

      it('grants at once a request that clashes with nothing live or queued ahead, while others wait', async () => {
        await acquire('A', ['resource:busy']);
        const waiting = waitFor('B', ['resource:busy']);
        await untilWaiting(1);
        expect((await acquire('C', ['resource:free'])).owner).toBe('C');
        // Shared readers queue behind a waiting writer too, rather than jumping it.
        await acquire('R1', [], { shared: ['dir:/s'] });
        const writer = waitFor('W', ['dir:/s']);
        await untilWaiting(2);
        expect((await errorOf(acquire('R2', [], { shared: ['dir:/s'] }))).details).toMatchObject({ owner: 'W', queued: true });
        void waiting;
        void writer;
      });

      it('grants every queued reader at once when the writer before them leaves, and keeps a later reader behind the next writer', async () => {
        const first = await acquire('W1', ['dir:/m']);
        const r1 = waitFor('R1', [], { shared: ['dir:/m'] });
        await untilWaiting(1);
        const r2 = waitFor('R2', [], { shared: ['dir:/m'] });
        await untilWaiting(2);
        const w2 = waitFor('W2', ['file:/m/a.ts']);
        await untilWaiting(3);
        const r3 = waitFor('R3', [], { shared: ['dir:/m'] });
        await untilWaiting(4);

        await release(first);
        // Both readers go with that one release. R3 asks exactly what they hold, but arrived after
        // W2, which clashes with them.
        expect((await store.inspect('')).waiters.map((w) => w.owner)).toEqual(['W2', 'R3']);
        const readers = [(await r1) as Lease, (await r2) as Lease];
        expect(readers.map((lease) => lease.owner)).toEqual(['R1', 'R2']);
        await release(readers[0]!);
        await release(readers[1]!);
        const second = (await w2) as Lease;
        expect((await store.inspect('')).waiters.map((w) => w.owner)).toEqual(['R3']);
        await release(second);
        expect(await r3).toMatchObject({ owner: 'R3', sharedConcerns: ['dir:/m'] });
        expect(order).toEqual(['R1', 'R2', 'W2', 'R3']);
      });

      it('tells who waits behind whom when a request is queued', async () => {
        const a = await acquire('A', ['resource:v']);
        const seen: Array<{ owner: string; blockedBy: string; queuedAt: number; deadline: number }> = [];
        const waiting = outcome(
          acquire('B', ['resource:v'], {
            waitMs: 5_000,
            onQueued: (waiter, blocker) =>
              seen.push({ owner: waiter.owner, blockedBy: blocker.owner, queuedAt: waiter.queuedAt, deadline: waiter.deadline }),
          }),
        );
        await untilWaiting(1);
        expect(seen).toEqual([{ owner: 'B', blockedBy: 'A', queuedAt: expect.any(Number), deadline: expect.any(Number) }]);
        expect(seen[0]!.deadline - seen[0]!.queuedAt).toBe(5_000);
        const [waiter] = (await store.inspect('resource:')).waiters;
        expect(waiter).toMatchObject({ owner: 'B', concerns: ['resource:v'], sharedConcerns: [] });
        expect((await store.inspect('port:')).waiters).toEqual([]);
        await release(a);
        expect(await waiting).toMatchObject({ owner: 'B' });
      });

      it('gives up after wait_ms with LOCK_CONFLICT naming the holder, and leaves the queue', async () => {
        const a = await acquire('A', ['resource:x']);
        const waiting = outcome(acquire('B', ['resource:x'], { waitMs: 200 }));
        await h.elapse(700);
        const err = await waiting;
        expect(err).toBeInstanceOf(MaestroError);
        expect((err as MaestroError).code).toBe('LOCK_CONFLICT');
        expect((err as MaestroError).message).toBe(
          `resource:x is held by A (lease ${a.leaseId}) after waiting 200 ms; retry later or wait longer (wait_ms)`,
        );
        expect((await store.inspect('')).waiters).toEqual([]);
      });

      it('a cancelled waiter leaves the queue, unblocks those behind it, and takes nothing afterwards', async () => {
        const a = await acquire('A', ['dir:/c/x']);
        const controller = new AbortController();
        const big = outcome(acquire('BIG', ['dir:/c'], { waitMs: 60_000, signal: controller.signal }));
        await untilWaiting(1);
        const small = waitFor('S', ['file:/c/y/z.ts']);
        await untilWaiting(2);
        controller.abort();
        expect(await big).toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
        // S clashed only with BIG: with BIG gone it is granted without anything being released.
        expect(await small).toMatchObject({ owner: 'S' });
        await release(a);
        await h.elapse(100);
        expect((await store.inspect('dir:/c')).leases).toEqual([]);
        expect((await store.inspect('')).waiters).toEqual([]);
      });

      it('close() fails queued requests and those still in flight, and leaves none of them holding or queued', async () => {
        const a = await acquire('A', ['resource:z']);
        const queued = outcome(acquire('Q', ['resource:z'], { waitMs: 60_000 }));
        await untilWaiting(1);
        // Asked just before close(), answered after it began: a grant and a queue entry nobody will take.
        const grantedInFlight = outcome(acquire('G', ['resource:free']));
        const queuedInFlight = outcome(acquire('W', ['resource:z'], { waitMs: 60_000 }));
        await store.close();
        for (const result of [queued, grantedInFlight, queuedInFlight]) expect(await result).toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
        // The store's data outlives the store object (Redis is shared by replicas): only A's lease is left.
        const left = await store.inspect('');
        expect(left.leases.map((lease) => lease.owner)).toEqual(['A']);
        expect(left.waiters).toEqual([]);
        await expect(acquire('late', ['resource:y'])).rejects.toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
        await release(a);
      });
    });

    describe('expiry', () => {
      it('frees a concern when its lease expires', async () => {
        await acquire('A', ['resource:d'], { ttlMs: 200 });
        await h.elapse(600);
        const b = await acquire('B', ['resource:d'], { ttlMs: 200 });
        expect(b.owner).toBe('B');
        expect((await store.inspect('resource:d')).leases).toEqual([expect.objectContaining({ owner: 'B' })]);
      });

      it('grants the next waiter when the holder expires, and reports the expired lease once', async () => {
        const expired: Lease[] = [];
        store.onExpired((lease) => expired.push(lease));
        const a = await acquire('A', ['file:/e/a.ts'], { ttlMs: 200 });
        const next = waitFor('B', ['dir:/e'], { waitMs: 10_000 });
        await untilWaiting(1);
        await until(() => order.length === 1);
        expect(await next).toMatchObject({ owner: 'B', concerns: ['dir:/e'] });
        expect(expired).toEqual([expect.objectContaining({ leaseId: a.leaseId, owner: 'A', concerns: ['file:/e/a.ts'] })]);
      });

      it('extends a lease for its owner, keeping its token and pushing its expiry', async () => {
        const lease = await acquire('A', ['resource:e'], { ttlMs: 400 });
        await h.elapse(200);
        const extended = await store.extend({ leaseId: lease.leaseId, owner: 'A', ttlMs: 5_000 });
        expect(extended.fencingToken).toBe(lease.fencingToken);
        expect(extended.concerns).toEqual(['resource:e']);
        expect(extended.expiresAt).toBeGreaterThan(lease.expiresAt);
        await h.elapse(600);
        expect((await errorOf(acquire('B', ['resource:e']))).details).toMatchObject({ owner: 'A' });
      });
    });

    describe('ownership', () => {
      it('lets only the owner extend or release a lease', async () => {
        const lease = await acquire('A', ['resource:f']);
        const extendErr = await errorOf(store.extend({ leaseId: lease.leaseId, owner: 'B', ttlMs: 1_000 }));
        expect(extendErr).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'owner' });
        expect(await errorOf(store.release({ leaseId: lease.leaseId, owner: 'B' }))).toMatchObject({ code: 'LOCK_NOT_HELD' });
        expect((await errorOf(acquire('B', ['resource:f']))).details).toMatchObject({ owner: 'A' });
      });

      it('frees every concern on release; a second release finds nothing; a released lease cannot be extended', async () => {
        const lease = await acquire('A', ['file:/r/g1', 'file:/r/g2']);
        expect(await release(lease)).toMatchObject({ leaseId: lease.leaseId, concerns: ['file:/r/g1', 'file:/r/g2'] });
        expect(await release(lease)).toBeUndefined();
        expect((await acquire('B', ['file:/r/g2', 'file:/r/g1'])).owner).toBe('B');
        const err = await errorOf(store.extend({ leaseId: lease.leaseId, owner: 'A', ttlMs: 1_000 }));
        expect(err).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
      });

      it('refuses to extend or release a lease id that never existed, naming lease_id, and grants nothing', async () => {
        const held = await acquire('A', ['resource:h']);
        const waiting = waitFor('B', ['resource:h']);
        await untilWaiting(1);
        const extendErr = await errorOf(store.extend({ leaseId: 'no-such-lease', owner: 'A', ttlMs: 1_000 }));
        expect(extendErr).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
        for (const owner of ['A', 'B']) {
          const releaseErr = await errorOf(store.release({ leaseId: 'no-such-lease', owner }));
          expect(releaseErr).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id', details: { why: 'no_such_lease' } });
          expect(releaseErr.message).toContain('no such lease no-such-lease');
        }
        // A queued request's id is not a lease either.
        const [queued] = (await store.inspect('resource:h')).waiters;
        expect(await errorOf(store.release({ leaseId: queued!.waiterId, owner: 'B' }))).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
        // Nothing was freed or granted by them: A still holds, B still waits.
        const after = await store.inspect('resource:h');
        expect(after.leases.map((lease) => lease.leaseId)).toEqual([held.leaseId]);
        expect(after.waiters.map((waiter) => waiter.owner)).toEqual(['B']);
        expect(order).toEqual([]);
        await release(held);
        expect(await waiting).toMatchObject({ owner: 'B' });
      });

      it('answers a release of a lease that expired with nothing released, not an error', async () => {
        const lease = await acquire('A', ['resource:x1'], { ttlMs: 200 });
        await h.elapse(600);
        expect(await release(lease)).toBeUndefined();
        expect(await release(lease)).toBeUndefined();
      });

      it('knows no lease lost with the store state: its release is refused, naming lease_id', async () => {
        const live = await acquire('A', ['resource:l1']);
        const ended = await acquire('A', ['resource:l2']);
        await release(ended);
        store = await h.loseState();
        for (const lease of [live, ended]) {
          expect(await errorOf(release(lease))).toMatchObject({ code: 'LOCK_NOT_HELD', field: 'lease_id' });
        }
      });
    });

    describe('fencing', () => {
      it('issues strictly increasing fencing tokens across all concerns and owners', async () => {
        const tokens: number[] = [];
        for (let i = 0; i < 6; i++) {
          const lease = await acquire(`owner-${i % 2}`, [`resource:r${i}`]);
          tokens.push(lease.fencingToken);
          if (i % 2 === 0) await release(lease);
        }
        for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
      });

      it('keeps tokens rising after the store loses all its state, and refuses the lost lease', async () => {
        const before = await acquire('A', ['resource:t']);
        const second = await acquire('B', ['resource:t2']);
        await h.elapse(20);
        store = await h.loseState();
        const after = await acquire('C', ['resource:t']);
        expect(after.fencingToken).toBeGreaterThan(second.fencingToken);
        expect(after.fencingToken).toBeGreaterThan(before.fencingToken);
        // The holder of a lease lost in the restart learns it on its next check or extend.
        expect(await errorOf(store.checkFence({ leaseId: before.leaseId, fencingToken: before.fencingToken }))).toMatchObject({
          code: 'FENCED',
        });
        expect(await errorOf(store.extend({ leaseId: before.leaseId, owner: 'A', ttlMs: 1_000 }))).toMatchObject({
          code: 'LOCK_NOT_HELD',
        });
      });

      it('CheckFence accepts the live lease with its token and refuses any other token', async () => {
        const lease = await acquire('A', ['file:/f/x']);
        expect(await store.checkFence({ leaseId: lease.leaseId, fencingToken: lease.fencingToken })).toMatchObject({
          leaseId: lease.leaseId,
          owner: 'A',
          fencingToken: lease.fencingToken,
        });
        const wrong = await errorOf(store.checkFence({ leaseId: lease.leaseId, fencingToken: lease.fencingToken - 1 }));
        expect(wrong).toMatchObject({ code: 'FENCED', field: 'fencing_token' });
        expect(wrong.details).toMatchObject({ why: 'token_mismatch', newestToken: lease.fencingToken });
        const unknown = await errorOf(store.checkFence({ leaseId: 'never-granted', fencingToken: 5 }));
        expect(unknown).toMatchObject({ code: 'FENCED', field: 'lease_id' });
        expect(unknown.details).not.toHaveProperty('newestToken');
      });

      it('fences off a holder whose lease expired and passed to someone else (Kleppmann)', async () => {
        const client1 = await acquire('client1', ['file:/storage/x'], { ttlMs: 200 });
        await h.elapse(600);
        const client2 = await acquire('client2', ['dir:/storage'], { ttlMs: 30_000 });
        expect(client2.fencingToken).toBeGreaterThan(client1.fencingToken);
        const err = await errorOf(store.checkFence({ leaseId: client1.leaseId, fencingToken: client1.fencingToken }));
        expect(err).toMatchObject({ code: 'FENCED', field: 'lease_id' });
        expect(err.details).toMatchObject({ why: 'not_live', newestToken: client2.fencingToken });
        expect(err.message).toContain(`newest token on an overlapping concern is ${client2.fencingToken}`);
        expect(await errorOf(store.extend({ leaseId: client1.leaseId, owner: 'client1', ttlMs: 30_000 }))).toMatchObject({
          code: 'LOCK_NOT_HELD',
        });
        expect(await store.checkFence({ leaseId: client2.leaseId, fencingToken: client2.fencingToken })).toMatchObject({
          owner: 'client2',
        });
      });
    });

    it('inspects by concern prefix, over exclusive and shared concerns', async () => {
      const a = await acquire('A', ['file:/repo1/a.ts']);
      await acquire('B', ['file:/repo2/b.ts']);
      await acquire('C', ['port:3000']);
      const d = await acquire('D', [], { shared: ['dir:/repo3'] });
      expect((await store.inspect('file:/repo1/')).leases.map((l) => l.leaseId)).toEqual([a.leaseId]);
      expect((await store.inspect('file:')).leases.map((l) => l.owner).sort()).toEqual(['A', 'B']);
      expect((await store.inspect('dir:/repo3')).leases.map((l) => l.leaseId)).toEqual([d.leaseId]);
      expect((await store.inspect('resource:')).leases).toEqual([]);
      expect((await store.inspect('')).leases).toHaveLength(4);
    });
  });
}
