/**
 * The one contract every `LockStore` adapter passes. Cases follow the lock models and
 * scenarios in `shared/corpora/locks/lock_models_and_scenarios.json`: the knossos / hazelcast
 * owner-aware mutex (acquire while held fails, release by a non-owner fails), node-redlock's
 * scenarios (expiry, exclusivity, overlapping multi-locks stay all-or-nothing) and Kleppmann's
 * fencing example (a later grant always carries a larger token).
 */
import { MaestroError } from '@maestro/runtime';
import { validateAcquire } from '../src/domain/lease.js';
import type { Lease } from '../src/domain/lease.js';
import type { LockStore } from '../src/store/lock-store.js';

/** What a contract run needs from an adapter. */
export interface LockStoreHarness {
  store: LockStore;
  /**
   * Lets `ms` of lock time pass: a manual clock advances, a real one (Redis) sleeps. Timings in
   * the suite leave wide margins either side so a busy machine cannot flip an outcome.
   */
  elapse(ms: number): Promise<void>;
  /** Frees what the harness made (keys, connections). */
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

    const acquire = (owner: string, concerns: string[], ttlMs = 30_000, waitMs = 0): Promise<Lease> =>
      store.acquire(validateAcquire({ owner, concerns, ttlMs, waitMs }));

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

    it('grants a free concern and reports it through inspect', async () => {
      const lease = await acquire('exec-1/sub-1', ['file:/repo/a.ts']);
      expect(lease.owner).toBe('exec-1/sub-1');
      expect(lease.concerns).toEqual(['file:/repo/a.ts']);
      expect(lease.fencingToken).toBeGreaterThan(0);
      expect(lease.leaseId).not.toBe('');

      const held = await store.inspect('');
      expect(held).toEqual([expect.objectContaining({ leaseId: lease.leaseId, owner: 'exec-1/sub-1' })]);
    });

    it('refuses a held concern to another owner, naming the concern and its holder (mutual exclusion)', async () => {
      const a = await acquire('A', ['resource:db']);
      const err = await errorOf(acquire('B', ['resource:db']));
      expect(err.code).toBe('LOCK_CONFLICT');
      expect(err.message).toContain('resource:db');
      expect(err.message).toContain('A');
      expect(err.details).toMatchObject({ concern: 'resource:db', owner: 'A', leaseId: a.leaseId });
      // A still holds it: B's failure changed nothing.
      expect((await store.inspect('resource:db')).map((l) => l.leaseId)).toEqual([a.leaseId]);
    });

    it('refuses a second acquire by the same owner too (leases are not re-entrant)', async () => {
      await acquire('A', ['port:8080']);
      const err = await errorOf(acquire('A', ['port:8080']));
      expect(err.code).toBe('LOCK_CONFLICT');
    });

    it('grants exactly one of many simultaneous acquires of one concern', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => outcome(acquire(`racer-${i}`, ['git-index:/repo']))),
      );
      const winners = results.filter((r) => !(r instanceof MaestroError));
      const losers = results.filter((r): r is MaestroError => r instanceof MaestroError);
      expect(winners).toHaveLength(1);
      expect(losers.every((e) => e.code === 'LOCK_CONFLICT')).toBe(true);
    });

    it('grants overlapping multi-concern requests all-or-nothing', async () => {
      const a = await acquire('A', ['file:/r/c1', 'file:/r/c2']);
      const err = await errorOf(acquire('B', ['file:/r/c2', 'file:/r/c3']));
      expect(err.details).toMatchObject({ concern: 'file:/r/c2', owner: 'A' });
      // c3 was not taken by B's failed attempt: C gets it at once.
      const c = await acquire('C', ['file:/r/c3']);
      expect(c.concerns).toEqual(['file:/r/c3']);
      const leases = await store.inspect('file:/r/');
      expect(leases.map((l) => l.leaseId).sort()).toEqual([a.leaseId, c.leaseId].sort());
    });

    it('treats different concerns independently (conflicts are by exact name for now)', async () => {
      await acquire('A', ['dir:/repo/src']);
      const b = await acquire('B', ['file:/repo/src/a.ts']);
      expect(b.owner).toBe('B');
    });

    it('frees a concern when its lease expires', async () => {
      await acquire('A', ['resource:d'], 200);
      await h.elapse(600);
      const b = await acquire('B', ['resource:d'], 200);
      expect(b.owner).toBe('B');
      expect(await store.inspect('resource:d')).toEqual([expect.objectContaining({ owner: 'B' })]);
    });

    it('issues strictly increasing fencing tokens across all concerns and owners', async () => {
      const tokens: number[] = [];
      for (let i = 0; i < 5; i++) {
        const lease = await acquire(`owner-${i % 2}`, [`resource:r${i % 3}`]);
        tokens.push(lease.fencingToken);
        await store.release({ leaseId: lease.leaseId, owner: lease.owner });
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    });

    it('gives a later holder a larger token than a holder whose lease expired (Kleppmann)', async () => {
      const client1 = await acquire('client1', ['file:/storage/x'], 200);
      await h.elapse(600);
      const client2 = await acquire('client2', ['file:/storage/x'], 30_000);
      expect(client2.fencingToken).toBeGreaterThan(client1.fencingToken);
      // client1 woke up: its lease is gone, so it cannot extend its way back in.
      const err = await errorOf(store.extend({ leaseId: client1.leaseId, owner: 'client1', ttlMs: 30_000 }));
      expect(err.code).toBe('LOCK_NOT_HELD');
    });

    it('extends a lease for its owner, keeping its token and pushing its expiry', async () => {
      const lease = await acquire('A', ['resource:e'], 400);
      await h.elapse(200);
      const extended = await store.extend({ leaseId: lease.leaseId, owner: 'A', ttlMs: 5_000 });
      expect(extended.fencingToken).toBe(lease.fencingToken);
      expect(extended.concerns).toEqual(['resource:e']);
      expect(extended.expiresAt).toBeGreaterThan(lease.expiresAt);
      // Past the original expiry, A still holds it.
      await h.elapse(600);
      const err = await errorOf(acquire('B', ['resource:e']));
      expect(err.details).toMatchObject({ owner: 'A' });
    });

    it('lets only the owner extend or release a lease', async () => {
      const lease = await acquire('A', ['resource:f']);
      const extendErr = await errorOf(store.extend({ leaseId: lease.leaseId, owner: 'B', ttlMs: 1_000 }));
      expect(extendErr.code).toBe('LOCK_NOT_HELD');
      const releaseErr = await errorOf(store.release({ leaseId: lease.leaseId, owner: 'B' }));
      expect(releaseErr.code).toBe('LOCK_NOT_HELD');
      // Still A's.
      expect((await errorOf(acquire('B', ['resource:f']))).details).toMatchObject({ owner: 'A' });
    });

    it('frees every concern of a lease on release, and a second release finds nothing', async () => {
      const lease = await acquire('A', ['file:/r/g1', 'file:/r/g2']);
      const released = await store.release({ leaseId: lease.leaseId, owner: 'A' });
      expect(released).toMatchObject({ leaseId: lease.leaseId, concerns: ['file:/r/g1', 'file:/r/g2'] });
      expect(await store.release({ leaseId: lease.leaseId, owner: 'A' })).toBeUndefined();
      const b = await acquire('B', ['file:/r/g2', 'file:/r/g1']);
      expect(b.owner).toBe('B');
    });

    it('refuses to extend a released lease', async () => {
      const lease = await acquire('A', ['resource:h']);
      await store.release({ leaseId: lease.leaseId, owner: 'A' });
      const err = await errorOf(store.extend({ leaseId: lease.leaseId, owner: 'A', ttlMs: 1_000 }));
      expect(err.code).toBe('LOCK_NOT_HELD');
    });

    it('waits for a held concern and gets it once the holder releases', async () => {
      const a = await acquire('A', ['resource:w']);
      const waiting = outcome(acquire('B', ['resource:w'], 30_000, 60_000));
      await h.elapse(50);
      await store.release({ leaseId: a.leaseId, owner: 'A' });
      await h.elapse(500);
      const b = await waiting;
      expect(b).toMatchObject({ owner: 'B', concerns: ['resource:w'] });
    });

    it('gives up waiting after wait_ms with LOCK_CONFLICT', async () => {
      await acquire('A', ['resource:x']);
      const waiting = outcome(acquire('B', ['resource:x'], 30_000, 200));
      await h.elapse(700);
      const err = await waiting;
      expect(err).toBeInstanceOf(MaestroError);
      expect((err as MaestroError).code).toBe('LOCK_CONFLICT');
      expect((err as MaestroError).message).toContain('after waiting 200 ms');
    });

    it('stops waiting when the caller goes away, and takes nothing afterwards', async () => {
      const a = await acquire('A', ['resource:y']);
      const controller = new AbortController();
      const waiting = outcome(
        store.acquire(validateAcquire({ owner: 'B', concerns: ['resource:y'], ttlMs: 30_000, waitMs: 60_000 }), {
          signal: controller.signal,
        }),
      );
      await h.elapse(50);
      controller.abort();
      await h.elapse(500);
      expect(await waiting).toMatchObject({ code: 'LOCK_WAIT_CANCELLED' });
      await store.release({ leaseId: a.leaseId, owner: 'A' });
      await h.elapse(500);
      expect(await store.inspect('resource:y')).toEqual([]);
    });

    it('inspects by concern prefix', async () => {
      const a = await acquire('A', ['file:/repo1/a.ts']);
      await acquire('B', ['file:/repo2/b.ts']);
      await acquire('C', ['port:3000']);
      expect((await store.inspect('file:/repo1/')).map((l) => l.leaseId)).toEqual([a.leaseId]);
      expect((await store.inspect('file:')).map((l) => l.owner).sort()).toEqual(['A', 'B']);
      expect(await store.inspect('resource:')).toEqual([]);
      expect(await store.inspect('')).toHaveLength(3);
    });
  });
}
