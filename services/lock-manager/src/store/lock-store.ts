/**
 * The port every lock backend implements. Requests arrive validated and normalized (see
 * `validateAcquire`); a store only decides who holds what.
 */
import type { AcquireSpec, ExtendSpec, Lease, ReleaseSpec } from '../domain/lease.js';

/** Per-call options of {@link LockStore.acquire}. */
export interface AcquireOptions {
  /** Stops a waiting acquire, e.g. when the gRPC call is cancelled or its deadline passes. */
  signal?: AbortSignal;
}

/** Exclusive, expiring leases over named concerns. */
export interface LockStore {
  /**
   * Grants every concern of `spec` to `spec.owner` at once, or none of them. While any is held
   * by another lease it retries (small backoff, by the store's clock) until `spec.waitMs` has
   * passed, then throws `LOCK_CONFLICT` naming a held concern and its owner. When `signal`
   * aborts (the caller went away) it stops waiting and throws `LOCK_WAIT_CANCELLED`.
   */
  acquire(spec: AcquireSpec, options?: AcquireOptions): Promise<Lease>;
  /**
   * Resets the lease's time to live to `spec.ttlMs` from now. Throws `LOCK_NOT_HELD` when the
   * lease expired, was released, or belongs to another owner.
   */
  extend(spec: ExtendSpec): Promise<Lease>;
  /**
   * Frees the lease's concerns and returns the lease; `undefined` when there is no such lease
   * any more (expired or already released), so releasing twice is harmless. Throws
   * `LOCK_NOT_HELD` when the lease belongs to another owner.
   */
  release(spec: ReleaseSpec): Promise<Lease | undefined>;
  /** Live leases holding a concern that starts with `concernPrefix` (all when empty). */
  inspect(concernPrefix: string): Promise<Lease[]>;
}

/** What one attempt at a grant found: the lease, or the first concern held by someone else. */
export type AcquireAttempt =
  | { readonly granted: true; readonly lease: Lease }
  | { readonly granted: false; readonly conflict: { concern: string; leaseId: string; owner: string } };
