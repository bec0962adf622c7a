/**
 * The lock-manager's Prometheus metrics and the `LockStore` decorator that records them, so
 * neither the stores nor the handlers know about metrics:
 *
 * - `maestro_lock_wait_seconds{outcome}`: how long an Acquire took, queue wait included, by
 *   outcome (`granted`, `conflict`, `cancelled`, `error`).
 * - `maestro_lock_requests_total{outcome}`: Acquire requests by the same outcomes (grants and
 *   conflicts).
 * - `maestro_lock_hold_seconds{end}`: from grant to release or expiry (`released`, `expired`).
 *   Measured by the replica that granted the lease; a release that another replica serves is
 *   not observed (gRPC clients keep one connection, so this is rare).
 */
import { defineCounter, defineHistogram, processRegistry, systemClock, toMaestroError } from '@maestro/runtime';
import type { Clock, Counter, Histogram, Registry } from '@maestro/runtime';
import { LockErrorCodes } from './domain/lock-errors.js';
import type { Lease } from './domain/lease.js';
import type { LockStore } from './store/lock-store.js';

/** How an Acquire ended, as the `outcome` label. */
export const AcquireOutcomes = {
  granted: 'granted',
  conflict: 'conflict',
  cancelled: 'cancelled',
  error: 'error',
} as const;
export type AcquireOutcome = (typeof AcquireOutcomes)[keyof typeof AcquireOutcomes];

/** The lock-manager's metrics. */
export interface LockManagerMetrics {
  readonly waits: Histogram<'outcome'>;
  readonly requests: Counter<'outcome'>;
  readonly holds: Histogram<'end'>;
}

/** Defines the lock-manager's metrics on `registry`. */
export function createLockManagerMetrics(registry: Registry = processRegistry()): LockManagerMetrics {
  return {
    waits: defineHistogram(registry, {
      name: 'maestro_lock_wait_seconds',
      help: 'Time an Acquire took, waiting in the queue included, by outcome (granted, conflict, cancelled, error).',
      labelNames: ['outcome'],
    }),
    requests: defineCounter(registry, {
      name: 'maestro_lock_requests_total',
      help: 'Acquire requests by outcome (granted, conflict, cancelled, error).',
      labelNames: ['outcome'],
    }),
    holds: defineHistogram(registry, {
      name: 'maestro_lock_hold_seconds',
      help: 'Time a lease was held, from grant to release or expiry, as seen by the replica that granted it.',
      labelNames: ['end'],
    }),
  };
}

function outcomeOf(err: unknown): AcquireOutcome {
  const code = toMaestroError(err).code;
  if (code === LockErrorCodes.conflict) return AcquireOutcomes.conflict;
  if (code === LockErrorCodes.waitCancelled) return AcquireOutcomes.cancelled;
  return AcquireOutcomes.error;
}

/** Wraps `store` so every acquire, release and expiry is recorded in `metrics`. */
export function instrumentLockStore(store: LockStore, metrics: LockManagerMetrics, clock: Clock = systemClock): LockStore {
  const held = new Map<string, { grantedAt: number; expiresAt: number }>();
  const ended = (lease: Lease, end: 'released' | 'expired'): void => {
    const entry = held.get(lease.leaseId);
    if (entry === undefined) return;
    held.delete(lease.leaseId);
    metrics.holds.observe({ end }, (clock.now() - entry.grantedAt) / 1000);
  };
  // Another replica may report an expiry (or serve the release): forget leases past their time.
  const forgetLapsed = (now: number): void => {
    for (const [leaseId, entry] of held) if (entry.expiresAt < now) held.delete(leaseId);
  };
  store.onExpired((lease) => ended(lease, 'expired'));
  return {
    async acquire(spec, options) {
      const started = clock.now();
      const record = (outcome: AcquireOutcome): void => {
        metrics.requests.inc({ outcome });
        metrics.waits.observe({ outcome }, (clock.now() - started) / 1000);
      };
      try {
        const lease = await store.acquire(spec, options);
        record(AcquireOutcomes.granted);
        const now = clock.now();
        forgetLapsed(now);
        held.set(lease.leaseId, { grantedAt: now, expiresAt: lease.expiresAt });
        return lease;
      } catch (err) {
        record(outcomeOf(err));
        throw err;
      }
    },
    async release(spec) {
      const lease = await store.release(spec);
      if (lease) ended(lease, 'released');
      return lease;
    },
    async extend(spec) {
      const lease = await store.extend(spec);
      const entry = held.get(lease.leaseId);
      if (entry) entry.expiresAt = lease.expiresAt;
      return lease;
    },
    checkFence: (spec) => store.checkFence(spec),
    inspect: (prefix) => store.inspect(prefix),
    onExpired: (listener) => store.onExpired(listener),
    close: () => store.close(),
  };
}
