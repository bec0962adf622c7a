/**
 * The lock-manager's errors: stable codes and the messages a caller sees. Pure: no I/O.
 */
import { OperationalError, UserError } from '@maestro/runtime';
import type { ConcernMode } from './concern-overlap.js';

/** Codes of the errors the lock-manager raises on purpose. */
export const LockErrorCodes = {
  /** A concern is held (or awaited earlier) by someone else: FAILED_PRECONDITION. */
  conflict: 'LOCK_CONFLICT',
  /** Extend/release of a lease that is gone or someone else's: FAILED_PRECONDITION. */
  notHeld: 'LOCK_NOT_HELD',
  /** CheckFence refused: the lease is not live or its token is not the current one. */
  fenced: 'FENCED',
  /** The caller went away while its acquire waited (UNAVAILABLE). */
  waitCancelled: 'LOCK_WAIT_CANCELLED',
  /** The store (Redis) could not be reached (UNAVAILABLE). */
  storeUnavailable: 'LOCK_STORE_UNAVAILABLE',
  /** The store answered something it never writes (INTERNAL). */
  storeCorrupt: 'LOCK_STORE_CORRUPT',
} as const;
/** One of {@link LockErrorCodes}. */
export type LockErrorCode = (typeof LockErrorCodes)[keyof typeof LockErrorCodes];

/** What stands in the way of a request: a live lease, or a request queued before it. */
export interface Blocker {
  /** The requested concern that clashes. */
  readonly concern: string;
  /** The blocker's overlapping concern (equal to `concern`, or a dir/repo above or a path below it). */
  readonly heldConcern: string;
  /** The mode the blocker holds (or asks for) `heldConcern` in. */
  readonly heldMode: ConcernMode;
  readonly owner: string;
  /** The blocking lease, or the id of the earlier queued request when `queued`. */
  readonly leaseId: string;
  /** True when the blocker is a request waiting ahead in the queue, not a live lease. */
  readonly queued: boolean;
}

/**
 * The error of an acquire that could not get every concern within its wait: names the
 * blocking concern and its holder (or the earlier waiter) so the caller knows whom it waits on.
 */
export function lockConflict(blocker: Blocker, waitMs: number): UserError {
  const waited = waitMs > 0 ? ` after waiting ${waitMs} ms` : '';
  const what =
    blocker.concern === blocker.heldConcern ? `${blocker.concern} is` : `${blocker.concern} overlaps ${blocker.heldConcern},`;
  const mode = blocker.heldMode === 'shared' ? ' (shared)' : '';
  const by = blocker.queued
    ? `requested${mode} earlier by ${blocker.owner} (queued request ${blocker.leaseId}), which is served first`
    : `held${mode} by ${blocker.owner} (lease ${blocker.leaseId})`;
  return new UserError(LockErrorCodes.conflict, `${what} ${by}${waited}; retry later or wait longer (wait_ms)`, {
    reason: 'precondition',
    details: { ...blocker, waitMs },
  });
}

/**
 * Why an extend or release was refused:
 * - `other_owner`: the lease is live but someone else's;
 * - `expired_or_released`: (extend only) the lease is gone: it expired, was released, was lost
 *   in a store restart, or never existed;
 * - `no_such_lease`: (release only) the store never granted this id, or forgot it long after it
 *   ended. A release of a lease the store knows ended is not refused (see `LockStore.release`).
 */
export type NotHeldReason = 'expired_or_released' | 'other_owner' | 'no_such_lease';

/**
 * The error of an extend or release by someone who does not hold the lease: another owner's
 * lease, a lease that expired, was released or was lost in a store restart (extend), or a
 * lease id the store does not know at all (release). A holder that gets it must stop writing:
 * its concerns may already belong to someone else.
 */
export function lockNotHeld(leaseId: string, owner: string, why: NotHeldReason): UserError {
  return new UserError(LockErrorCodes.notHeld, notHeldMessage(leaseId, owner, why), {
    reason: 'precondition',
    field: why === 'other_owner' ? 'owner' : 'lease_id',
    details: { leaseId, owner, why },
  });
}

function notHeldMessage(leaseId: string, owner: string, why: NotHeldReason): string {
  switch (why) {
    case 'other_owner':
      return `lease ${leaseId} is not held by ${owner}; only its owner can extend or release it`;
    case 'expired_or_released':
      return `lease ${leaseId} is not held (it expired, was released, or never existed); acquire the concerns again`;
    case 'no_such_lease':
      return `lease_id: no such lease ${leaseId}; this lock-manager never granted it, or forgot it long after it ended. Nothing was released: release only a lease id that Acquire returned`;
  }
}

/** Why a fencing check failed. */
export type FenceFailure = 'not_live' | 'token_mismatch';

/**
 * The error of a fencing check that failed: the writer must not write. Names the newest token
 * granted on an overlapping concern when the store still knows it.
 */
export function fenced(leaseId: string, token: number, why: FenceFailure, newestToken: number | undefined): UserError {
  const newer = newestToken === undefined ? '' : `; the newest token on an overlapping concern is ${newestToken}`;
  const message =
    why === 'not_live'
      ? `lease ${leaseId} is not live (expired, released, or lost in a store restart): token ${token} is fenced off${newer}`
      : `fencing token ${token} is not the token of lease ${leaseId}${newer}`;
  return new UserError(LockErrorCodes.fenced, message, {
    reason: 'precondition',
    field: why === 'not_live' ? 'lease_id' : 'fencing_token',
    details: { leaseId, token, why, ...(newestToken === undefined ? {} : { newestToken }) },
  });
}

/**
 * The store closed while the acquire was pending: the request is withdrawn from the queue and
 * a grant it got meanwhile is handed back, so the caller holds nothing.
 */
export function storeClosing(): OperationalError {
  return new OperationalError(
    LockErrorCodes.waitCancelled,
    'acquire cancelled: the lock store is closing (the lock-manager is shutting down); the request is withdrawn and any grant handed back, retry on another replica',
  );
}

/** The caller cancelled (or its deadline passed) while its acquire waited in the queue. */
export function waitCancelled(lateGrantReleased = false): OperationalError {
  const message = lateGrantReleased
    ? 'acquire cancelled by the caller; the grant that raced the cancel was released'
    : 'acquire cancelled by the caller while waiting for held concerns; it left the queue';
  return new OperationalError(LockErrorCodes.waitCancelled, message);
}
