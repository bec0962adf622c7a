/**
 * The lock-manager under load: 64 clients in this process against two real lock-manager
 * processes (`dist/main.js`) sharing one Redis key prefix, over overlapping hierarchical concerns
 * of a fake repository, some held shared. Each client acquires a random set, holds it 1–5 ms and
 * releases it, a bounded number of rounds. Afterwards, from what the clients saw:
 *
 * - no two conflicting leases (by the tests' own overlap rule, `concern-overlap.ts`) were ever
 *   held at once: the interval from "grant received" to "release sent", read from one monotonic
 *   clock (`performance.now()` of this process), lies inside the real holding time;
 * - of two conflicting leases, the one granted later carries the larger fencing token;
 * - every client finished all its rounds (nobody starved within a generous `wait_ms`).
 *
 * Waits are printed (max per client), never asserted: timing goals live in bench/locks.
 */
import { randomUUID } from 'node:crypto';
import type { LockServiceClient } from '@maestro/contracts';
import { MaestroError, type GrpcClient } from '@maestro/runtime';
import { testKeyPrefix, testNamespace, testServers } from '@maestro/testing';
import { leasesConflict, type HeldConcerns } from './concern-overlap.js';
import { buildLockManager, LockManagerProcess } from './lock-manager-process.js';
import { deleteNamespaceStreams, deleteRedisKeys } from './shared-server-cleanup.js';

const CLIENTS = 64;
const REPLICAS = 2;
const ROUNDS = 12;
const TTL_MS = 30_000;
/** Generous: a client that waits this long has starved, and the test says so. */
const WAIT_MS = 20_000;
/** No round starts after this; with one Acquire's deadline on top the run ends within ~60 s. */
const RUN_BUDGET_MS = 40_000;
const HOLD_MIN_MS = 1;
const HOLD_MAX_MS = 5;

/** The fake repository: concerns and how often a client picks each. */
const CONCERN_TREE: ReadonlyArray<{ concern: string; weight: number }> = [
  { concern: 'repo:/r', weight: 1 },
  { concern: 'dir:/r/src', weight: 2 },
  { concern: 'dir:/r/src/a', weight: 3 },
  { concern: 'file:/r/src/a/x.ts', weight: 5 },
  { concern: 'file:/r/src/a/y.ts', weight: 5 },
  { concern: 'file:/r/src/b.ts', weight: 5 },
  { concern: 'dir:/r/docs', weight: 2 },
  { concern: 'file:/r/docs/guide.md', weight: 4 },
  { concern: 'file:/r/package.json', weight: 4 },
];
/** Chance that a picked concern is asked in shared mode. */
const SHARED_CHANCE = 0.35;

/** One lease as one client saw it. */
interface Grant extends HeldConcerns {
  client: number;
  round: number;
  leaseId: string;
  token: number;
  /** `performance.now()` when the Acquire reply arrived. */
  grantedAt: number;
  /** `performance.now()` just before the Release was sent. */
  releaseSentAt: number;
  waitMs: number;
  released: boolean;
}

interface ClientOutcome {
  client: number;
  completedRounds: number;
  maxWaitMs: number;
  failure?: string;
}

/** mulberry32: a seeded generator, so a failing run can be replayed with its printed seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1–3 concerns that do not overlap each other, each exclusive or shared. */
function pickConcerns(random: () => number): HeldConcerns {
  const total = CONCERN_TREE.reduce((sum, c) => sum + c.weight, 0);
  const wanted = 1 + Math.floor(random() * 3);
  const exclusive: string[] = [];
  const shared: string[] = [];
  for (let attempt = 0; attempt < 10 && exclusive.length + shared.length < wanted; attempt++) {
    let ticket = random() * total;
    const pick = CONCERN_TREE.find((c) => (ticket -= c.weight) < 0) ?? CONCERN_TREE[0]!;
    const candidate = { exclusive: [pick.concern], shared: [] };
    if (leasesConflict(candidate, { exclusive: [...exclusive, ...shared], shared: [] })) continue;
    (random() < SHARED_CHANCE ? shared : exclusive).push(pick.concern);
  }
  return { exclusive, shared };
}

function describeError(err: unknown): string {
  if (err instanceof MaestroError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const keyPrefix = testKeyPrefix('maestro-lock-stress');
const natsNamespace = testNamespace('lms');
const replicas: LockManagerProcess[] = [];
const clients: Array<GrpcClient<LockServiceClient>> = [];

beforeAll(async () => {
  buildLockManager();
  for (let i = 0; i < REPLICAS; i++) {
    replicas.push(
      await LockManagerProcess.start({ keyPrefix, natsNamespace, redisUrl: testServers.redisUrl, natsUrl: testServers.natsUrl }),
    );
  }
  for (const replica of replicas) clients.push(replica.client(WAIT_MS + 5_000));
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(replicas.map((r) => r.stop()));
  await deleteRedisKeys(testServers.redisUrl, keyPrefix);
  await deleteNamespaceStreams(testServers.natsUrl, natsNamespace);
}, 30_000);

it('never lets conflicting leases overlap, orders their fencing tokens, and starves nobody (64 clients, 2 replicas)', async () => {
  // Each client draws from its own generator (seed + index), so a printed seed replays every
  // client's picks and holds even though the clients interleave differently.
  const seed = Number(process.env.LOCK_STRESS_SEED ?? Date.now() % 2 ** 31);
  const grants: Grant[] = [];
  const runStart = performance.now();

  async function runClient(index: number): Promise<ClientOutcome> {
    const lockClient = clients[index % REPLICAS]!;
    const owner = `stress-${index}-${randomUUID().slice(0, 6)}`;
    const outcome: ClientOutcome = { client: index, completedRounds: 0, maxWaitMs: 0 };
    const random = seededRandom(seed + index);
    for (let round = 0; round < ROUNDS; round++) {
      if (performance.now() - runStart > RUN_BUDGET_MS) {
        outcome.failure = `run budget of ${RUN_BUDGET_MS} ms spent before round ${round}`;
        return outcome;
      }
      const held = pickConcerns(random);
      const askedAt = performance.now();
      let lease;
      try {
        lease = await lockClient.call.acquire({
          owner,
          concerns: [...held.exclusive],
          sharedConcerns: [...held.shared],
          ttlMs: TTL_MS,
          waitMs: WAIT_MS,
        });
      } catch (err) {
        outcome.failure = `round ${round} acquire ${JSON.stringify(held)}: ${describeError(err)}`;
        return outcome;
      }
      const grantedAt = performance.now();
      const sameSet = (got: readonly string[], asked: readonly string[]): boolean => [...got].sort().join() === [...asked].sort().join();
      if (!sameSet(lease.concerns, held.exclusive) || !sameSet(lease.sharedConcerns, held.shared)) {
        outcome.failure = `round ${round}: asked ${JSON.stringify(held)}, granted ${JSON.stringify({ exclusive: lease.concerns, shared: lease.sharedConcerns })}`;
      }
      await sleep(HOLD_MIN_MS + random() * (HOLD_MAX_MS - HOLD_MIN_MS));
      const releaseSentAt = performance.now();
      let released = false;
      try {
        released = (await lockClient.call.release({ leaseId: lease.leaseId, owner })).released;
      } catch (err) {
        outcome.failure = `round ${round} release: ${describeError(err)}`;
      }
      grants.push({
        ...held,
        client: index,
        round,
        leaseId: lease.leaseId,
        token: lease.fencingToken,
        grantedAt,
        releaseSentAt,
        waitMs: grantedAt - askedAt,
        released,
      });
      outcome.maxWaitMs = Math.max(outcome.maxWaitMs, grantedAt - askedAt);
      if (outcome.failure !== undefined) return outcome;
      outcome.completedRounds = round + 1;
    }
    return outcome;
  }

  const outcomes = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => runClient(i)));
  const elapsedMs = performance.now() - runStart;

  // Every pair of conflicting leases: disjoint in time, tokens in the same order as the grants.
  const violations: string[] = [];
  let conflictingPairs = 0;
  for (let i = 0; i < grants.length; i++) {
    for (let j = i + 1; j < grants.length; j++) {
      const a = grants[i]!;
      const b = grants[j]!;
      if (!leasesConflict(a, b)) continue;
      conflictingPairs++;
      const [first, second] = a.grantedAt <= b.grantedAt ? [a, b] : [b, a];
      if (first.releaseSentAt > second.grantedAt) {
        violations.push(
          `overlap: ${first.leaseId} ${JSON.stringify({ x: first.exclusive, s: first.shared })} held until ${first.releaseSentAt.toFixed(2)} ` +
            `while ${second.leaseId} ${JSON.stringify({ x: second.exclusive, s: second.shared })} was granted at ${second.grantedAt.toFixed(2)}`,
        );
      } else if (first.token >= second.token) {
        violations.push(`token order: ${first.leaseId} (token ${first.token}) was granted before ${second.leaseId} (token ${second.token})`);
      }
    }
  }
  const tokens = grants.map((g) => g.token);
  const duplicateTokens = tokens.filter((t, i) => tokens.indexOf(t) !== i);
  const unreleased = grants.filter((g) => !g.released).map((g) => g.leaseId);
  const failures = outcomes.filter((o) => o.failure !== undefined || o.completedRounds !== ROUNDS);
  const maxWaits = outcomes.map((o) => o.maxWaitMs);
  const sharedGrants = grants.filter((g) => g.shared.length > 0).length;

  console.log(
    `lock stress (seed ${seed}): ${grants.length} grants (${sharedGrants} with shared concerns) by ${CLIENTS} clients on ${REPLICAS} replicas in ` +
      `${elapsedMs.toFixed(0)} ms; ${conflictingPairs} conflicting pairs checked, ${violations.length} violations; ` +
      `max wait ${Math.max(...maxWaits).toFixed(1)} ms (per-client max waits, ms: ${maxWaits.map((w) => w.toFixed(0)).join(' ')})`,
  );

  expect(failures.map((o) => `client ${o.client}: ${o.completedRounds}/${ROUNDS} rounds${o.failure ? `, ${o.failure}` : ''}`)).toEqual([]);
  expect(violations.slice(0, 10)).toEqual([]);
  expect(duplicateTokens).toEqual([]);
  expect(unreleased).toEqual([]);
  expect(grants).toHaveLength(CLIENTS * ROUNDS);
  // The load really contended: otherwise the checks above prove nothing.
  expect(conflictingPairs).toBeGreaterThan(CLIENTS * ROUNDS);
}, 90_000);
