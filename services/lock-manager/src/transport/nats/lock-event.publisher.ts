/**
 * Lock facts on the bus: `maestro.events.lock.acquired` when a lease is granted,
 * `.released` when its holder releases it, `.expired` when it runs out (published by the one
 * replica whose script removed it), and `.waiting` when a request joins the queue.
 */
import { Subjects } from '@maestro/contracts';
import type { LockEvent, LockWaitingEvent } from '@maestro/contracts';
import { systemClock } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import type { Blocker } from '../../domain/lock-errors.js';
import type { Waiter } from '../../domain/lock-table.js';
import type { Lease } from '../../domain/lease.js';

/** Where lock events go; the gRPC handler and the store's expiry listener call it. */
export interface LockEventPublisher {
  /** A lease was granted. */
  acquired(lease: Lease): Promise<void>;
  /** A lease was released by its owner. */
  released(lease: Lease): Promise<void>;
  /** A lease expired (its owner neither extended nor released it in time). */
  expired(lease: Lease): Promise<void>;
  /** A request joined the queue behind `blocker`. */
  waiting(waiter: Waiter, blocker: Blocker): Promise<void>;
}

/** The slice of `@maestro/bus`'s `Bus` this publisher needs (best-effort event publish). */
export interface EventBus {
  publishEvent(subject: string, payload: unknown): Promise<void>;
}

/** Builds the `LockEvent` payload (LockEventSchema) of a lease: exclusive `concerns`, `sharedConcerns`. */
export function toLockEvent(lease: Lease, reason: NonNullable<LockEvent['reason']>, at: number): LockEvent {
  return {
    leaseId: lease.leaseId,
    owner: lease.owner,
    concerns: [...lease.concerns],
    sharedConcerns: [...lease.sharedConcerns],
    fencingToken: lease.fencingToken,
    reason,
    at: new Date(at).toISOString(),
  };
}

/** Builds the payload of `maestro.events.lock.waiting`. */
export function toLockWaitingEvent(waiter: Waiter, blocker: Blocker, at: number): LockWaitingEvent {
  return {
    requestId: waiter.waiterId,
    owner: waiter.owner,
    concerns: [...waiter.concerns],
    sharedConcerns: [...waiter.sharedConcerns],
    queuedAt: new Date(waiter.queuedAt).toISOString(),
    deadline: new Date(waiter.deadline).toISOString(),
    blockedBy: { ...blocker },
    at: new Date(at).toISOString(),
  };
}

/**
 * Publishes lock events through the bus. Events are facts for watchers (the viewer, audits);
 * the bus logs and drops a failed publish rather than failing the grant, because a lease that
 * was granted must reach its holder whether or not anyone is watching.
 */
export function createBusLockEventPublisher(bus: EventBus, clock: Clock = systemClock): LockEventPublisher {
  return {
    acquired: (lease) => bus.publishEvent(Subjects.lockAcquired, toLockEvent(lease, 'granted', clock.now())),
    released: (lease) => bus.publishEvent(Subjects.lockReleased, toLockEvent(lease, 'released', clock.now())),
    expired: (lease) => bus.publishEvent(Subjects.lockExpired, toLockEvent(lease, 'expired', clock.now())),
    waiting: (waiter, blocker) => bus.publishEvent(Subjects.lockWaiting, toLockWaitingEvent(waiter, blocker, clock.now())),
  };
}
