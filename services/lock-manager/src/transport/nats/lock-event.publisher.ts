/**
 * Lock facts on the bus: `maestro.events.lock.acquired` when a lease is granted and
 * `maestro.events.lock.released` when its holder releases it.
 */
import { Subjects } from '@maestro/contracts';
import type { LockEvent } from '@maestro/contracts';
import { systemClock } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import type { Lease } from '../../domain/lease.js';

/** Where lock events go; the gRPC handler calls it after each grant and release. */
export interface LockEventPublisher {
  /** A lease was granted. */
  acquired(lease: Lease): Promise<void>;
  /** A lease was released by its owner. */
  released(lease: Lease): Promise<void>;
}

/** The slice of `@maestro/bus`'s `Bus` this publisher needs (best-effort event publish). */
export interface EventBus {
  publishEvent(subject: string, payload: unknown): Promise<void>;
}

/** Builds the `LockEvent` payload (LockEventSchema) of a lease. */
export function toLockEvent(lease: Lease, reason: NonNullable<LockEvent['reason']>, at: number): LockEvent {
  return {
    leaseId: lease.leaseId,
    owner: lease.owner,
    concerns: [...lease.concerns],
    fencingToken: lease.fencingToken,
    reason,
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
  };
}
