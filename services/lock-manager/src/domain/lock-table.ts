/**
 * The lock semantics as a pure state machine: live leases, the FIFO queue of waiting requests,
 * expiry and fencing tokens. Time is an argument (`now`, ms), never read, so every rule is
 * testable without a clock. `InMemoryLockStore` drives it; the Redis scripts implement the same
 * steps in Lua (`redis-lock-scripts.ts`), and one contract suite checks that both agree.
 *
 * Queue rule: a request is granted at once when it clashes with no live lease and no request
 * queued before it; otherwise it waits (when it may) behind the others. Whenever concerns are
 * freed, the queue is walked in arrival order and every entry that clashes with no live lease
 * and no entry still waiting ahead of it is granted, so a big request is never starved by a
 * stream of small ones that overlap it.
 */
import { concernsOverlap, findClash } from './concern-overlap.js';
import type { ConcernSet } from './concern-overlap.js';
import { MICROS_PER_MS, nextFencingToken } from './fencing-token.js';
import { fenced, lockNotHeld } from './lock-errors.js';
import type { Blocker } from './lock-errors.js';
import type { AcquireSpec, CheckFenceSpec, ExtendSpec, Lease, ReleaseSpec } from './lease.js';

/** A request waiting in the queue; if granted, its lease id is its `waiterId`. */
export interface Waiter extends ConcernSet {
  readonly waiterId: string;
  readonly owner: string;
  readonly ttlMs: number;
  /** When it joined the queue (ms since the epoch, store clock). */
  readonly queuedAt: number;
  /** When it stops waiting (ms since the epoch, store clock). */
  readonly deadline: number;
}

/** A queued request that was granted. */
export interface Grant {
  readonly waiterId: string;
  readonly lease: Lease;
}

/** What an acquire found. */
export type AcquireOutcome =
  | { readonly kind: 'granted'; readonly lease: Lease }
  | { readonly kind: 'queued'; readonly waiter: Waiter; readonly blocker: Blocker }
  | { readonly kind: 'refused'; readonly blocker: Blocker };

/** What a sweep did: leases that expired, and the waiters granted because of it. */
export interface SweepResult {
  readonly expired: Lease[];
  readonly granted: Grant[];
}

/** What `cancel` did with a waiter that left. */
export interface CancelResult {
  /** True when it was still waiting and left the queue. */
  readonly left: boolean;
  /** The lease granted to it just before the cancel, now released. */
  readonly released: Lease | undefined;
  readonly granted: Grant[];
}

/** Options of {@link LockTable}. */
export interface LockTableOptions {
  /**
   * How long a released or expired lease is remembered: CheckFence can still name the newest
   * token on its concerns, and releasing it again answers "nothing released" instead of "no
   * such lease". @default 600000 (10 minutes, {@link LockTableDefaults})
   */
  endedMemoryMs?: number;
}

/**
 * The defaults of {@link LockTableOptions}. The Redis store keeps its `ended:<id>` keys exactly
 * as long (`RedisLockRetention.endedMs`), so both stores answer a late release alike.
 */
export const LockTableDefaults = { endedMemoryMs: 600_000 } as const;

/** The leases and the queue of one lock store. */
export class LockTable {
  private readonly endedMemoryMs: number;
  private readonly leases = new Map<string, Lease>();
  private queue: Waiter[] = [];
  private readonly ended = new Map<string, { lease: Lease; endedAt: number }>();
  private lastToken = 0;

  constructor(options: LockTableOptions = {}) {
    this.endedMemoryMs = options.endedMemoryMs ?? LockTableDefaults.endedMemoryMs;
  }

  /**
   * Removes leases whose `expiresAt` has come and waiters whose deadline passed, then grants
   * every waiter that became grantable. Every other method expects a sweep at the same `now`
   * just before it (the stores do that), so nothing expired is ever seen as live.
   */
  sweep(now: number): SweepResult {
    const expired: Lease[] = [];
    for (const lease of [...this.leases.values()]) {
      if (lease.expiresAt <= now) {
        this.end(lease, now);
        expired.push(lease);
      }
    }
    for (const [id, { endedAt }] of this.ended) {
      if (endedAt + this.endedMemoryMs <= now) this.ended.delete(id);
    }
    this.queue = this.queue.filter((waiter) => waiter.deadline > now);
    return { expired, granted: this.grantReady(now) };
  }

  /**
   * Grants `spec` under the id `requestId` when nothing live or queued clashes with it;
   * otherwise queues it until `now + spec.waitMs` (when `waitMs` > 0) or refuses it, naming the
   * first blocker.
   */
  acquire(requestId: string, spec: AcquireSpec, now: number): AcquireOutcome {
    const blocker = this.blockerOf(spec, this.queue);
    if (!blocker) return { kind: 'granted', lease: this.grant(requestId, spec, now) };
    if (spec.waitMs <= 0) return { kind: 'refused', blocker };
    const waiter: Waiter = {
      waiterId: requestId,
      owner: spec.owner,
      concerns: [...spec.concerns],
      sharedConcerns: [...spec.sharedConcerns],
      ttlMs: spec.ttlMs,
      queuedAt: now,
      deadline: now + spec.waitMs,
    };
    this.queue.push(waiter);
    return { kind: 'queued', waiter, blocker };
  }

  /**
   * The end of a wait: the lease when the request was granted meanwhile, else it leaves the
   * queue and gets one last try (as a new arrival, so it still yields to earlier waiters).
   */
  timeout(requestId: string, spec: AcquireSpec, now: number): { outcome: AcquireOutcome; granted: Grant[] } {
    const lease = this.leases.get(requestId);
    if (lease) return { outcome: { kind: 'granted', lease }, granted: [] };
    this.queue = this.queue.filter((waiter) => waiter.waiterId !== requestId);
    const granted = this.grantReady(now);
    return { outcome: this.acquire(requestId, { ...spec, waitMs: 0 }, now), granted };
  }

  /**
   * A waiter's caller went away: it leaves the queue (unblocking those behind it), and a lease
   * granted to it just before is released, since nobody would use it.
   */
  cancel(requestId: string, now: number): CancelResult {
    const before = this.queue.length;
    this.queue = this.queue.filter((waiter) => waiter.waiterId !== requestId);
    const left = this.queue.length < before;
    const lease = this.leases.get(requestId);
    if (lease) this.end(lease, now);
    return { left, released: lease, granted: left || lease ? this.grantReady(now) : [] };
  }

  /**
   * Frees the lease (its owner asked). `undefined` when it ended within `endedMemoryMs` (released
   * or expired), so a retried release after a lost reply is harmless. Throws `LOCK_NOT_HELD`
   * naming `owner` for another owner's lease, and naming `lease_id` for an id this table never
   * granted (or forgot).
   */
  release(spec: ReleaseSpec, now: number): { lease: Lease | undefined; granted: Grant[] } {
    const lease = this.leases.get(spec.leaseId);
    if (!lease) {
      if (this.remembersEnded(spec.leaseId, now)) return { lease: undefined, granted: [] };
      throw lockNotHeld(spec.leaseId, spec.owner, 'no_such_lease');
    }
    if (lease.owner !== spec.owner) throw lockNotHeld(spec.leaseId, spec.owner, 'other_owner');
    this.end(lease, now);
    return { lease, granted: this.grantReady(now) };
  }

  /** Pushes the lease's expiry to `now + ttlMs`; throws `LOCK_NOT_HELD` when gone or someone else's. */
  extend(spec: ExtendSpec, now: number): Lease {
    const lease = this.leases.get(spec.leaseId);
    if (!lease) throw lockNotHeld(spec.leaseId, spec.owner, 'expired_or_released');
    if (lease.owner !== spec.owner) throw lockNotHeld(spec.leaseId, spec.owner, 'other_owner');
    const extended: Lease = { ...lease, expiresAt: now + spec.ttlMs };
    this.leases.set(lease.leaseId, extended);
    return extended;
  }

  /**
   * The lease when it is live and `fencingToken` is its token; otherwise throws `FENCED`,
   * naming the newest token of a live lease overlapping its concerns when they are known.
   */
  checkFence(spec: CheckFenceSpec, now: number): Lease {
    const lease = this.leases.get(spec.leaseId);
    const live = lease !== undefined && lease.expiresAt > now;
    if (live && lease.fencingToken === spec.fencingToken) return lease;
    const known = lease ?? this.ended.get(spec.leaseId)?.lease;
    const newest = known ? this.newestOverlappingToken(known, now) : undefined;
    throw fenced(spec.leaseId, spec.fencingToken, live ? 'token_mismatch' : 'not_live', newest);
  }

  /** Live leases and waiting requests, in grant and arrival order. */
  inspect(now: number): { leases: Lease[]; waiters: Waiter[] } {
    return {
      leases: [...this.leases.values()].filter((lease) => lease.expiresAt > now),
      waiters: this.queue.filter((waiter) => waiter.deadline > now),
    };
  }

  /** The earliest lease expiry, when a sweep has something to do; `undefined` when no lease is live. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const lease of this.leases.values()) {
      if (next === undefined || lease.expiresAt < next) next = lease.expiresAt;
    }
    return next;
  }

  private grant(leaseId: string, set: ConcernSet & { owner: string; ttlMs: number }, now: number): Lease {
    this.lastToken = nextFencingToken(this.lastToken, now * MICROS_PER_MS);
    const lease: Lease = {
      leaseId,
      owner: set.owner,
      concerns: [...set.concerns],
      sharedConcerns: [...set.sharedConcerns],
      fencingToken: this.lastToken,
      expiresAt: now + set.ttlMs,
    };
    this.leases.set(leaseId, lease);
    return lease;
  }

  private grantReady(now: number): Grant[] {
    const granted: Grant[] = [];
    const stillWaiting: Waiter[] = [];
    for (const waiter of this.queue) {
      if (this.blockerOf(waiter, stillWaiting)) {
        stillWaiting.push(waiter);
      } else {
        granted.push({ waiterId: waiter.waiterId, lease: this.grant(waiter.waiterId, waiter, now) });
      }
    }
    this.queue = stillWaiting;
    return granted;
  }

  /** The first live lease, then the first of `ahead`, that clashes with `request`. */
  private blockerOf(request: ConcernSet, ahead: readonly Waiter[]): Blocker | undefined {
    for (const lease of this.leases.values()) {
      const clash = findClash(request, lease);
      if (clash) return { concern: clash.requested, heldConcern: clash.held, heldMode: clash.heldMode, owner: lease.owner, leaseId: lease.leaseId, queued: false };
    }
    for (const waiter of ahead) {
      const clash = findClash(request, waiter);
      if (clash) return { concern: clash.requested, heldConcern: clash.held, heldMode: clash.heldMode, owner: waiter.owner, leaseId: waiter.waiterId, queued: true };
    }
    return undefined;
  }

  /** True when `leaseId` ended (released, expired or cancelled) less than `endedMemoryMs` before `now`. */
  private remembersEnded(leaseId: string, now: number): boolean {
    const ended = this.ended.get(leaseId);
    return ended !== undefined && ended.endedAt + this.endedMemoryMs > now;
  }

  private end(lease: Lease, now: number): void {
    this.leases.delete(lease.leaseId);
    this.ended.set(lease.leaseId, { lease, endedAt: now });
  }

  private newestOverlappingToken(lease: Lease, now: number): number | undefined {
    const mine = [...lease.concerns, ...lease.sharedConcerns];
    let newest: number | undefined;
    for (const other of this.leases.values()) {
      if (other.expiresAt <= now) continue;
      const overlaps = [...other.concerns, ...other.sharedConcerns].some((c) => mine.some((m) => concernsOverlap(c, m)));
      if (overlaps && (newest === undefined || other.fencingToken > newest)) newest = other.fencingToken;
    }
    return newest;
  }
}
