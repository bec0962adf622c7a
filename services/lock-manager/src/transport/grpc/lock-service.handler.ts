/**
 * `maestro.v1.LockService` over gRPC: validates each request, asks the `LockStore`, publishes
 * the lock event and maps the lease to its proto form. Errors are thrown as maestro errors;
 * the runtime turns them into statuses (LOCK_CONFLICT, LOCK_NOT_HELD and FENCED →
 * FAILED_PRECONDITION, bad input → INVALID_ARGUMENT naming the field, Redis down → UNAVAILABLE).
 */
import type { Lease as LeaseMessage, LockServiceServer, Waiter as WaiterMessage } from '@maestro/contracts';
import { unary } from '@maestro/runtime';
import { validateAcquire, validateCheckFence, validateExtend, validateRelease } from '../../domain/lease.js';
import type { Lease } from '../../domain/lease.js';
import { waitCancelled } from '../../domain/lock-errors.js';
import type { Waiter } from '../../domain/lock-table.js';
import type { LockStore } from '../../store/lock-store.js';
import type { LockEventPublisher } from '../nats/lock-event.publisher.js';

/** What the LockService handlers work with. */
export interface LockServiceDeps {
  store: LockStore;
  events: LockEventPublisher;
}

/** Converts a domain lease into the `maestro.v1.Lease` message. */
export function toLeaseMessage(lease: Lease): LeaseMessage {
  return {
    leaseId: lease.leaseId,
    owner: lease.owner,
    concerns: [...lease.concerns],
    sharedConcerns: [...lease.sharedConcerns],
    fencingToken: lease.fencingToken,
    expiresAt: new Date(lease.expiresAt),
  };
}

/** Converts a queued request into the `maestro.v1.Waiter` message. */
export function toWaiterMessage(waiter: Waiter): WaiterMessage {
  return {
    requestId: waiter.waiterId,
    owner: waiter.owner,
    concerns: [...waiter.concerns],
    sharedConcerns: [...waiter.sharedConcerns],
    queuedAt: new Date(waiter.queuedAt),
    deadline: new Date(waiter.deadline),
  };
}

/** Creates the LockService implementation to register with `GrpcServer.add`. */
export function createLockServiceHandlers({ store, events }: LockServiceDeps): LockServiceServer {
  return {
    acquire: unaryAcquire(store, events),

    extend: unary(async (request, ctx) => {
      const spec = validateExtend(request);
      const lease = await store.extend(spec);
      ctx.logger.debug('lock extended', { leaseId: lease.leaseId, owner: lease.owner, ttlMs: spec.ttlMs });
      return toLeaseMessage(lease);
    }),

    release: unary(async (request, ctx) => {
      const spec = validateRelease(request);
      // Throws LOCK_NOT_HELD for another owner's lease or an id the store never granted.
      const lease = await store.release(spec);
      if (!lease) {
        // It ended already (released or expired): a retried release is answered, not refused.
        ctx.logger.info('lock release found the lease ended already', { leaseId: spec.leaseId, owner: spec.owner });
        return { released: false };
      }
      ctx.logger.debug('lock released', { leaseId: lease.leaseId, owner: lease.owner, concerns: lease.concerns });
      // Not awaited: events are best-effort facts (the publisher never throws), sent after this
      // answer; the `lock.released` event is the record of it.
      void events.released(lease);
      return { released: true };
    }),

    inspect: unary(async (request) => {
      const { leases, waiters } = await store.inspect(request.concernPrefix);
      return { leases: leases.map(toLeaseMessage), waiters: waiters.map(toWaiterMessage) };
    }),

    checkFence: unary(async (request) => {
      const lease = await store.checkFence(validateCheckFence(request));
      return toLeaseMessage(lease);
    }),
  };
}

function unaryAcquire(store: LockStore, events: LockEventPublisher): LockServiceServer['acquire'] {
  return unary(async (request, ctx) => {
    const spec = validateAcquire(request);
    const lease = await store.acquire(spec, {
      signal: ctx.signal,
      onQueued: (waiter, blocker) => {
        ctx.logger.debug('lock request queued', { requestId: waiter.waiterId, owner: waiter.owner, blockedBy: blocker.owner });
        void events.waiting(waiter, blocker);
      },
    });
    if (ctx.signal.aborted) {
      // The caller gave up (deadline or cancel) while the grant was in flight: nobody will
      // use or release this lease, so hand the concerns back now instead of at ttl.
      await store.release({ leaseId: lease.leaseId, owner: lease.owner });
      throw waitCancelled(true);
    }
    // Debug, like every per-grant line: on a contended lock this runs hundreds of times a second,
    // and the `lock.acquired` event is the record of each grant.
    ctx.logger.debug('lock acquired', {
      leaseId: lease.leaseId,
      owner: lease.owner,
      concerns: lease.concerns,
      sharedConcerns: lease.sharedConcerns,
      token: lease.fencingToken,
      ttlMs: spec.ttlMs,
    });
    // Not awaited (as for release): the grant answers first; the event follows on the next turn of
    // the event loop, before any later event of this lease.
    void events.acquired(lease);
    return toLeaseMessage(lease);
  });
}
