/**
 * Lock facts on the bus: `maestro.events.lock.acquired` when a lease is granted,
 * `.released` when its holder releases it, `.expired` when it runs out (published by the one
 * replica whose script removed it), and `.waiting` when a request joins the queue.
 */
import { Subjects } from '@maestro/contracts';
import type { LockEvent, LockWaitingEvent } from '@maestro/contracts';
import { createSilentLogger, systemClock } from '@maestro/runtime';
import type { Clock, Logger } from '@maestro/runtime';
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

/** The slice of `@maestro/bus`'s `Bus` this publisher needs. */
export interface EventBus {
  /** Publishes on core NATS (the events stream still stores it); throws only when the connection is closed. */
  publishLive(subject: string, payload: unknown): void;
}

/** Options of {@link createBusLockEventPublisher}. */
export interface BusLockEventPublisherOptions {
  /** Stamps each event (`at`). @default systemClock */
  clock?: Clock;
  /** Where an event that could not be sent is logged. @default a silent logger */
  logger?: Logger;
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
 * the record of who holds what is the store. A lease that was granted must reach its holder
 * whether or not anyone is watching, so an event is never waited for and a failed one is
 * logged and dropped, never turned into a failed grant.
 *
 * Each event is stamped when it happens and sent on the next turn of the event loop, in the
 * order the events happened, on core NATS: the events stream stores it as it stores any
 * publish on `maestro.events.>`, without an ack coming back. So the grant or release that
 * caused it is answered first, and neither the event's encoding and signing nor a JetStream ack
 * sit on the path from one holder's release to the next holder's grant (an acked publish costs
 * the lock-manager several times the CPU of a live one, and a contended lock sends three events
 * per handoff). The cost: a message the stream fails to store is not noticed here. The returned
 * promise settles once the event is handed to the connection (or logged as not sent).
 */
export function createBusLockEventPublisher(bus: EventBus, options: BusLockEventPublisherOptions = {}): LockEventPublisher {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createSilentLogger();
  const later = sendInOrderLater();
  const publish = (subject: string, payloadAt: (at: number) => unknown): Promise<void> => {
    const at = clock.now();
    return later(() => {
      try {
        bus.publishLive(subject, payloadAt(at));
      } catch (err) {
        logger.warn('lock event not published', { err, subject });
      }
    });
  };
  return {
    acquired: (lease) => publish(Subjects.lockAcquired, (at) => toLockEvent(lease, 'granted', at)),
    released: (lease) => publish(Subjects.lockReleased, (at) => toLockEvent(lease, 'released', at)),
    expired: (lease) => publish(Subjects.lockExpired, (at) => toLockEvent(lease, 'expired', at)),
    waiting: (waiter, blocker) => publish(Subjects.lockWaiting, (at) => toLockWaitingEvent(waiter, blocker, at)),
  };
}

/**
 * Runs each `send` on the next turn of the event loop (one `setImmediate` per batch), in call
 * order; the promise resolves once it ran.
 */
function sendInOrderLater(): (send: () => void) => Promise<void> {
  let batch: Array<() => void> = [];
  const flush = (): void => {
    const due = batch;
    batch = [];
    for (const run of due) run();
  };
  return (send) =>
    new Promise<void>((resolve) => {
      if (batch.length === 0) setImmediate(flush);
      batch.push(() => {
        send();
        resolve();
      });
    });
}
