/**
 * The lock corpus (`shared/corpora/locks/lock_models_and_scenarios.json`), run against both
 * stores: random acquire/release histories checked step by step against the jepsen/knossos
 * and hazelcast models (mutex, owner-aware mutex, fenced mutex), node-redlock's scenarios
 * adapted to our API, the jepsen lock-set workload (a lease that expires mid-critical-section
 * must not lose an update when writes are checked with CheckFence) and Kleppmann's fencing
 * case. Prints the counts per group and fails on any miss.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ManualClock, MaestroError } from '@maestro/runtime';
import { testKeyPrefix, testServers } from '@maestro/testing';
import { validateAcquire } from '../src/domain/lease.js';
import type { Lease } from '../src/domain/lease.js';
import { InMemoryLockStore } from '../src/store/in-memory-lock-store.js';
import type { LockStore } from '../src/store/lock-store.js';
import { RedisLockStore } from '../src/store/redis-lock-store.js';

// Beside the checkout, like every other corpus: <repo>/../shared/corpora.
const CORPUS = join(__dirname, '../../../..', 'shared', 'corpora', 'locks', 'lock_models_and_scenarios.json');

interface Corpus {
  models: Record<string, { source: string; step?: unknown[]; rules?: string[] }>;
  scenarios_redlock: { cases: Array<{ name: string; expected?: string }> };
  scenarios_jepsen_etcd: { workloads: Record<string, string> };
  kleppmann_fencing: { scenario: string; expected: string };
}

const corpus = JSON.parse(readFileSync(CORPUS, 'utf8')) as Corpus;

/** One store under test, with its way of letting time pass. */
interface Subject {
  store: LockStore;
  /** Lock time passes: a manual clock advances, a real one sleeps. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
  /** A store whose backend cannot be reached, when the adapter has one. */
  unreachable?: () => Promise<{ store: LockStore; close(): Promise<void> }>;
  /** Rounds of the timed workloads (real sleeps cost real time). */
  rounds: number;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const subjects: Record<string, () => Promise<Subject>> = {
  InMemoryLockStore: () => {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const store = new InMemoryLockStore({ clock });
    return Promise.resolve({
      store,
      elapse: async (ms) => {
        await tick();
        clock.advance(ms);
        await tick();
      },
      close: () => store.close(),
      rounds: 40,
    });
  },
  RedisLockStore: () => {
    const redis = new Redis(testServers.redisUrl);
    const keyPrefix = testKeyPrefix('maestro-lock-corpus');
    const store = new RedisLockStore({ redis, keyPrefix });
    return Promise.resolve({
      store,
      elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      close: async () => {
        await store.close();
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
      },
      unreachable: () => {
        const down = new Redis(testServers.redisUrl, { lazyConnect: true, enableOfflineQueue: false });
        const downStore = new RedisLockStore({ redis: down, keyPrefix });
        return Promise.resolve({
          store: downStore,
          close: async () => {
            await downStore.close();
            down.disconnect();
          },
        });
      },
      rounds: 8,
    });
  },
};

/** A small seeded PRNG (mulberry32), so a failing history can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const settle = <T>(promise: Promise<T>): Promise<T | MaestroError> =>
  promise.then(
    (value) => value,
    (err: unknown) => {
      if (err instanceof MaestroError) return err;
      throw err;
    },
  );

const acquireSpec = (owner: string, concerns: string[], ttlMs = 30_000, waitMs = 0) =>
  validateAcquire({ owner, concerns, ttlMs, waitMs });

/** Counts of checked steps and misses per corpus group, printed at the end. */
class Tally {
  readonly checked = new Map<string, number>();
  readonly notApplicable = new Map<string, string>();
  readonly misses: string[] = [];

  check(group: string, ok: boolean, what: string): void {
    this.checked.set(group, (this.checked.get(group) ?? 0) + 1);
    if (!ok) this.misses.push(`${group}: ${what}`);
  }

  report(store: string): string {
    const lines = [...this.checked].map(([group, n]) => `  ${group}: ${n} checks`);
    const na = [...this.notApplicable].map(([group, why]) => `  ${group}: not applicable (${why})`);
    return [`lock corpus on ${store}: ${this.misses.length} misses`, ...lines, ...na, ...this.misses.map((m) => `  MISS ${m}`)].join('\n');
  }
}

type ModelName = 'knossos.mutex' | 'hazelcast.OwnerAwareMutex' | 'hazelcast.FencedMutex';

/**
 * Drives a random history of acquire/release by three clients on one concern and checks every
 * step against `model`'s rules (from the corpus): acquire while held fails, acquire when free
 * succeeds; release by the holder frees it; release by a non-owner is refused;
 * and (fenced) each grant's token is above every token seen. A release when free is refused
 * (LOCK_NOT_HELD) for an id never granted, and releases nothing for a lease that ended.
 */
async function runModel(model: ModelName, store: LockStore, seed: number, steps: number, tally: Tally): Promise<void> {
  const random = prng(seed);
  const clients = ['n1', 'n2', 'n3'];
  const concern = `resource:model-${seed}`;
  let owner: string | null = null;
  let lockFence = 0;
  let current: Lease | undefined;
  let stale: Lease | undefined;
  for (let i = 0; i < steps; i++) {
    const client = clients[Math.floor(random() * clients.length)]!;
    const step = `${model} seed ${seed} step ${i}`;
    if (random() < 0.5) {
      const result = await settle(store.acquire(acquireSpec(client, [concern])));
      if (owner !== null) {
        tally.check(model, result instanceof MaestroError && result.code === 'LOCK_CONFLICT', `${step}: acquire by ${client} while ${owner} holds must fail`);
      } else {
        const granted = !(result instanceof MaestroError);
        tally.check(model, granted, `${step}: acquire by ${client} when free must succeed`);
        if (!granted) continue;
        if (model === 'hazelcast.FencedMutex') {
          tally.check(model, result.fencingToken > lockFence, `${step}: fence ${result.fencingToken} must exceed ${lockFence}`);
          lockFence = result.fencingToken;
        }
        owner = client;
        current = result;
      }
    } else {
      // A release names a lease: the holder's own, or (by another client) the holder's id, or a stale one.
      const leaseId = current?.leaseId ?? stale?.leaseId ?? 'never-granted';
      const result = await settle(store.release({ leaseId, owner: client }));
      if (owner === client) {
        tally.check(model, !(result instanceof MaestroError) && result?.leaseId === leaseId, `${step}: release by holder ${client} must free it`);
        owner = null;
        stale = current;
        current = undefined;
      } else if (owner === null && stale === undefined) {
        // knossos: "release when free: inconsistent (not held)" — of an id never granted: refused.
        tally.check(
          model,
          result instanceof MaestroError && result.code === 'LOCK_NOT_HELD' && result.field === 'lease_id',
          `${step}: release by ${client} of a lease never granted must be refused`,
        );
      } else if (owner === null) {
        // Release when free of a lease that ended: reports nothing released (a retried release is harmless).
        tally.check(model, result === undefined, `${step}: release by ${client} when free must release nothing`);
      } else {
        // hazelcast: "release by a non-owner: inconsistent" — refused, and the holder keeps it.
        tally.check(model, result instanceof MaestroError && result.code === 'LOCK_NOT_HELD', `${step}: release by non-owner ${client} must be refused`);
      }
    }
  }
  if (current) await store.release({ leaseId: current.leaseId, owner: current.owner });
}

/** Storage that takes writes only from the current lease holder (jepsen lock-set, Kleppmann's storage). */
class FencedSet {
  readonly items = new Set<string>();
  private highestToken = 0;
  constructor(private readonly store: LockStore) {}

  /** Writes `snapshot ∪ {item}`, refusing a lease CheckFence refuses or a token older than one already seen. */
  async write(lease: Lease, snapshot: ReadonlySet<string>, item: string): Promise<'ok' | 'fenced'> {
    const check = await settle(this.store.checkFence({ leaseId: lease.leaseId, fencingToken: lease.fencingToken }));
    if (check instanceof MaestroError || lease.fencingToken < this.highestToken) return 'fenced';
    this.highestToken = lease.fencingToken;
    this.items.clear();
    for (const x of snapshot) this.items.add(x);
    this.items.add(item);
    return 'ok';
  }
}

/** The same storage without any check: what etcd's lock-set workload had (lost updates). */
class UnfencedSet {
  readonly items = new Set<string>();
  write(snapshot: ReadonlySet<string>, item: string): void {
    this.items.clear();
    for (const x of snapshot) this.items.add(x);
    this.items.add(item);
  }
}

describe.each(Object.keys(subjects))('lock corpus on %s', (storeName) => {
  let subject: Subject;
  let store: LockStore;
  const tally = new Tally();

  beforeAll(async () => {
    subject = await subjects[storeName]!();
    store = subject.store;
  });
  afterAll(async () => {
    await subject.close();
    console.log(tally.report(storeName));
  });

  it('has the corpus groups this test runs', () => {
    expect(Object.keys(corpus.models)).toEqual(expect.arrayContaining(['knossos.mutex', 'hazelcast.OwnerAwareMutex', 'hazelcast.FencedMutex']));
    expect(corpus.scenarios_redlock.cases.length).toBeGreaterThanOrEqual(7);
    expect(corpus.scenarios_jepsen_etcd.workloads).toHaveProperty('lock-set');
    expect(corpus.kleppmann_fencing.expected).toContain('rejects token 33');
  });

  it.each(['knossos.mutex', 'hazelcast.OwnerAwareMutex', 'hazelcast.FencedMutex'] as const)(
    'model %s: random histories never break the model',
    async (model) => {
      for (const seed of [1, 2, 3, 4]) await runModel(model, store, seed * 7919 + model.length, 120, tally);
      expect(tally.misses.filter((m) => m.startsWith(model))).toEqual([]);
      expect(tally.checked.get(model)).toBeGreaterThanOrEqual(480);
    },
  );

  it('models that do not apply are named with the reason', () => {
    const present = Object.keys(corpus.models);
    if (present.includes('hazelcast.ReentrantFencedMutex')) {
      tally.notApplicable.set('hazelcast.ReentrantFencedMutex', 'leases are not re-entrant: a second acquire by the owner is LOCK_CONFLICT');
    }
    if (present.includes('hazelcast.AcquiredPermitsModel')) {
      tally.notApplicable.set('hazelcast.AcquiredPermitsModel', 'no counting semaphore; shared concerns are unbounded readers');
    }
    // The non-re-entrancy the first one depends on:
    return store.acquire(acquireSpec('owner', ['resource:reentrant'])).then(async (lease) => {
      const again = await settle(store.acquire(acquireSpec('owner', ['resource:reentrant'])));
      tally.check('models (re-entrancy)', again instanceof MaestroError && again.code === 'LOCK_CONFLICT', 're-acquire by owner must conflict');
      await store.release({ leaseId: lease.leaseId, owner: 'owner' });
      expect(tally.misses).toEqual([]);
    });
  });

  describe('redlock scenarios', () => {
    const group = 'redlock';
    const named = (name: string) => corpus.scenarios_redlock.cases.find((c) => c.name === name);

    it('acquire/extend/release single lock: the expiry follows the ttl and the extend', async () => {
      expect(named('acquire/extend/release single lock')).toBeDefined();
      // Long enough that a stalled machine cannot let the lease lapse before the extend.
      const D = 10_000;
      const started = Date.now();
      const lease = await store.acquire(acquireSpec('A', ['resource:a'], D));
      const held = (await store.inspect('resource:a')).leases;
      tally.check(group, held.length === 1 && held[0]!.leaseId === lease.leaseId, 'lease visible after acquire');
      const extended = await store.extend({ leaseId: lease.leaseId, owner: 'A', ttlMs: 3 * D });
      // pttl ~3D: the new expiry is 2D later than the first, plus the time between the calls.
      const moved = extended.expiresAt - lease.expiresAt;
      const between = Date.now() - started;
      tally.check(group, moved >= 2 * D && moved <= 2 * D + between + 100, `extend(3D) moved the expiry by ${moved} ms (${between} ms between the calls)`);
      tally.check(group, extended.fencingToken === lease.fencingToken, 'extend keeps the token');
      await store.release({ leaseId: lease.leaseId, owner: 'A' });
      tally.check(group, (await store.inspect('resource:a')).leases.length === 0, 'released lease gone');
      expect(tally.misses).toEqual([]);
    });

    it('locks automatically expire', async () => {
      expect(named('locks automatically expire')).toBeDefined();
      await store.acquire(acquireSpec('A', ['resource:d'], 200));
      await subject.elapse(300);
      const second = await settle(store.acquire(acquireSpec('B', ['resource:d'], 200)));
      tally.check(group, !(second instanceof MaestroError), 'second acquire after expiry succeeds');
      expect(tally.misses).toEqual([]);
    });

    it('individual locks are exclusive (a waiting acquire fails after its wait; the holder keeps it)', async () => {
      expect(named('individual locks are exclusive')).toBeDefined();
      const a = await store.acquire(acquireSpec('A', ['resource:c']));
      const now = await settle(store.acquire(acquireSpec('B', ['resource:c'])));
      tally.check(group, now instanceof MaestroError && now.code === 'LOCK_CONFLICT', 'B refused at once');
      const waited = settle(store.acquire(acquireSpec('B', ['resource:c'], 30_000, 200)));
      await subject.elapse(400);
      const late = await waited;
      tally.check(group, late instanceof MaestroError && late.code === 'LOCK_CONFLICT' && late.message.includes('held by A'), 'B refused after waiting, naming A');
      const holders = (await store.inspect('resource:c')).leases.map((l) => l.leaseId);
      tally.check(group, holders.length === 1 && holders[0] === a.leaseId, 'A still holds');
      await store.release({ leaseId: a.leaseId, owner: 'A' });
      expect(tally.misses).toEqual([]);
    });

    it('overlapping multi-locks are exclusive, all or nothing', async () => {
      expect(named('overlapping multi-locks are exclusive')).toBeDefined();
      const a = await store.acquire(acquireSpec('A', ['resource:c1', 'resource:c2']));
      const b = await settle(store.acquire(acquireSpec('B', ['resource:c2', 'resource:c3'])));
      tally.check(group, b instanceof MaestroError, 'B fails');
      const c3 = (await store.inspect('resource:c3')).leases;
      tally.check(group, c3.length === 0, 'c3 stays unlocked');
      const c12 = (await store.inspect('resource:c')).leases.map((l) => l.leaseId);
      tally.check(group, c12.length === 1 && c12[0] === a.leaseId, 'c1, c2 keep A');
      await store.release({ leaseId: a.leaseId, owner: 'A' });
      expect(tally.misses).toEqual([]);
    });

    it('auto-extension keeps the lease through a body longer than its ttl', async () => {
      expect(named('using() auto-extends')).toBeDefined();
      // Like using(['x'], ttl, threshold): extend when 30 % of the ttl is left; the body lasts 1.4 ttl.
      // (Scaled up from the corpus's 300/100/400 ms so a slow machine, stalled for seconds, cannot miss the extend.)
      const lease = await store.acquire(acquireSpec('A', ['resource:x'], 10_000));
      await subject.elapse(7_000);
      const extended = await store.extend({ leaseId: lease.leaseId, owner: 'A', ttlMs: 10_000 });
      await subject.elapse(7_000);
      const intruder = await settle(store.acquire(acquireSpec('B', ['resource:x'])));
      tally.check(group, intruder instanceof MaestroError, 'nobody else gets it during the body');
      tally.check(group, extended.fencingToken === lease.fencingToken, 'lock value unchanged during the body');
      const fence = await settle(store.checkFence({ leaseId: lease.leaseId, fencingToken: lease.fencingToken }));
      tally.check(group, !(fence instanceof MaestroError), 'still the current lease at the end of the body');
      const released = await store.release({ leaseId: lease.leaseId, owner: 'A' });
      tally.check(group, released?.leaseId === lease.leaseId, 'released after the body');
      expect(tally.misses).toEqual([]);
    });

    it('using() is exclusive: two concurrent bodies never overlap and get different leases', async () => {
      expect(named('using() is exclusive')).toBeDefined();
      let inside = 0;
      let overlap = false;
      const body = async (owner: string): Promise<Lease> => {
        const lease = await store.acquire(acquireSpec(owner, ['resource:y'], 30_000, 10_000));
        inside += 1;
        if (inside > 1) overlap = true;
        await subject.elapse(50);
        inside -= 1;
        await store.release({ leaseId: lease.leaseId, owner });
        return lease;
      };
      const [one, two] = await Promise.all([body('A'), body('B')]);
      tally.check(group, !overlap, 'never both inside the critical section');
      tally.check(group, one.leaseId !== two.leaseId && one.fencingToken !== two.fencingToken, 'different lock values');
      expect(tally.misses).toEqual([]);
    });

    it('unreachable backend: a clear, retryable error', async () => {
      expect(named('unreachable backend')).toBeDefined();
      if (!subject.unreachable) {
        tally.notApplicable.set('redlock: unreachable backend', 'the in-memory store has no backend to lose');
        return;
      }
      const down = await subject.unreachable();
      const err = await settle(down.store.acquire(acquireSpec('A', ['resource:u'])));
      tally.check(
        group,
        err instanceof MaestroError && err.code === 'LOCK_STORE_UNAVAILABLE' && err.kind === 'operational' && err.message.includes('lock store (redis) failed'),
        'acquire against a down Redis is LOCK_STORE_UNAVAILABLE',
      );
      await down.close();
      expect(tally.misses).toEqual([]);
    });

    it('quorum scenarios are named as not applicable', () => {
      for (const c of corpus.scenarios_redlock.cases.filter((x) => x.name.startsWith('quorum'))) {
        tally.notApplicable.set(`redlock: ${c.name}`, 'one Redis holds every lock (no Redlock quorum over several nodes)');
      }
      expect(tally.notApplicable.size).toBeGreaterThan(0);
    });
  });

  it('jepsen lock-set: no lost update when writes are checked with CheckFence, even as leases expire mid-write', async () => {
    const group = 'jepsen lock-set';
    const random = prng(42);
    const fencedSet = new FencedSet(store);
    const unfenced = new UnfencedSet();
    const acknowledged: string[] = [];
    const unfencedAcknowledged: string[] = [];
    let refused = 0;
    for (let round = 0; round < subject.rounds; round++) {
      // Client A takes the lock, reads, and sometimes stalls past its ttl (GC, slow network).
      const a = await store.acquire(acquireSpec(`a${round}`, ['resource:set'], 100, 5_000));
      const snapshotA = new Set(fencedSet.items);
      const unfencedSnapshotA = new Set(unfenced.items);
      const stalls = random() < 0.5;
      if (stalls) {
        await subject.elapse(250);
        // Meanwhile B gets the (expired) lock, reads, writes, releases.
        const b = await store.acquire(acquireSpec(`b${round}`, ['resource:set'], 30_000, 5_000));
        const snapshotB = new Set(fencedSet.items);
        if ((await fencedSet.write(b, snapshotB, `b${round}`)) === 'ok') acknowledged.push(`b${round}`);
        unfenced.write(new Set(unfenced.items), `b${round}`);
        unfencedAcknowledged.push(`b${round}`);
        await store.release({ leaseId: b.leaseId, owner: b.owner });
      }
      // A wakes and writes what it read plus its item.
      if ((await fencedSet.write(a, snapshotA, `a${round}`)) === 'ok') acknowledged.push(`a${round}`);
      else refused += 1;
      unfenced.write(unfencedSnapshotA, `a${round}`);
      unfencedAcknowledged.push(`a${round}`);
      await store.release({ leaseId: a.leaseId, owner: a.owner });
    }
    const lost = acknowledged.filter((x) => !fencedSet.items.has(x));
    tally.check(group, lost.length === 0, `lost acknowledged updates: ${lost.join(', ')}`);
    tally.check(group, refused > 0, 'the schedule stalled some holder past its lease (else the check proves nothing)');
    // Control: the same schedule without fencing loses updates (what etcd's lock-set found).
    const unfencedLost = unfencedAcknowledged.filter((x) => !unfenced.items.has(x));
    tally.check(group, unfencedLost.length > 0, 'without fencing the same schedule loses updates');
    expect(tally.misses).toEqual([]);
  });

  it("Kleppmann's fencing case: the storage rejects token 33 once 34 was seen", async () => {
    const group = 'kleppmann fencing';
    const storage = new FencedSet(store);
    const client1 = await store.acquire(acquireSpec('client1', ['file:/storage/file'], 100));
    await subject.elapse(250); // client1 pauses (GC) past its expiry
    const client2 = await store.acquire(acquireSpec('client2', ['file:/storage/file']));
    tally.check(group, client2.fencingToken > client1.fencingToken, 'client2 gets a larger token');
    tally.check(group, (await storage.write(client2, new Set(), 'from-client2')) === 'ok', 'client2 writes');
    tally.check(group, (await storage.write(client1, new Set(), 'from-client1')) === 'fenced', 'client1 (older token) is refused');
    const check = await settle(store.checkFence({ leaseId: client1.leaseId, fencingToken: client1.fencingToken }));
    tally.check(group, check instanceof MaestroError && check.code === 'FENCED', 'CheckFence says FENCED');
    tally.check(group, storage.items.has('from-client2') && !storage.items.has('from-client1'), 'storage keeps client2’s write');
    await store.release({ leaseId: client2.leaseId, owner: 'client2' });
    expect(tally.misses).toEqual([]);
  });
});
