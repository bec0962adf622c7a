/**
 * The port every lock backend implements. Requests arrive validated and normalized (see
 * `validateAcquire`); a store decides who holds what, queues who waits, expires leases and
 * issues fencing tokens.
 */
import type { Blocker } from '../domain/lock-errors.js';
import type { Waiter } from '../domain/lock-table.js';
import type { AcquireSpec, CheckFenceSpec, ExtendSpec, Lease, ReleaseSpec } from '../domain/lease.js';

/** Per-call options of {@link LockStore.acquire}. */
export interface AcquireOptions {
  /** Stops a waiting acquire, e.g. when the gRPC call is cancelled or its deadline passes. */
  signal?: AbortSignal | undefined;
  /** Told once when the request joins the queue, with what it waits behind (to publish it). */
  onQueued?: ((waiter: Waiter, blocker: Blocker) => void) | undefined;
}

/** Live leases and waiting requests, as Inspect reports them. */
export interface LockSnapshot {
  readonly leases: Lease[];
  /** In queue (arrival) order. */
  readonly waiters: Waiter[];
}

/** Called with each lease a store's sweeper (or any operation) found expired and removed. */
export type ExpiredListener = (lease: Lease) => void;

/** Leases over hierarchical concerns, shared or exclusive, with a fair queue of waiters. */
export interface LockStore {
  /**
   * Grants every concern of `spec` to `spec.owner` at once, or none. When something live or
   * queued earlier clashes and `spec.waitMs` > 0, the request joins the FIFO queue and is
   * granted as soon as the clashing leases go (no polling); after `waitMs` it throws
   * `LOCK_CONFLICT` naming a blocker. When `signal` aborts it leaves the queue (a grant that
   * raced the abort is released) and throws `LOCK_WAIT_CANCELLED`.
   */
  acquire(spec: AcquireSpec, options?: AcquireOptions): Promise<Lease>;
  /**
   * Resets the lease's time to live to `spec.ttlMs` from now. Throws `LOCK_NOT_HELD` when the
   * lease expired, was released, was lost, or belongs to another owner.
   */
  extend(spec: ExtendSpec): Promise<Lease>;
  /**
   * Frees the lease's concerns (granting waiters that can now go) and returns the lease.
   * `undefined` when the store knows the lease ended (released or expired, within the ended
   * leases' retention, 10 min), so a release retried after a lost reply is harmless. Throws
   * `LOCK_NOT_HELD` (FAILED_PRECONDITION) naming `owner` when the lease belongs to another
   * owner, and naming `lease_id` when the store never granted that id (or forgot it past the
   * retention, or lost it in a restart); nothing is freed or granted then.
   */
  release(spec: ReleaseSpec): Promise<Lease | undefined>;
  /**
   * The lease when it is live and `spec.fencingToken` is its token; otherwise throws `FENCED`
   * (FAILED_PRECONDITION) naming the newest token on an overlapping concern when known.
   */
  checkFence(spec: CheckFenceSpec): Promise<Lease>;
  /** Live leases and waiters with a concern that starts with `concernPrefix` (all when empty). */
  inspect(concernPrefix: string): Promise<LockSnapshot>;
  /** Registers `listener` for expired leases; each expiry is reported by exactly one store replica. Returns an unsubscribe. */
  onExpired(listener: ExpiredListener): () => void;
  /** Stops the sweeper and pending waits (they fail with `LOCK_WAIT_CANCELLED`); connections passed in stay open. */
  close(): Promise<void>;
}

/** True when a lease or waiter names a concern starting with `prefix`. */
export function matchesPrefix(item: { concerns: readonly string[]; sharedConcerns: readonly string[] }, prefix: string): boolean {
  return prefix === '' || [...item.concerns, ...item.sharedConcerns].some((concern) => concern.startsWith(prefix));
}
