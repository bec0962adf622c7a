/**
 * Locks held in this process's memory: for unit tests and for the embedded mode, where one
 * process runs every service and there is nobody else to exclude.
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import { lockNotHeld } from '../domain/lease.js';
import type { AcquireSpec, ExtendSpec, Lease, ReleaseSpec } from '../domain/lease.js';
import { acquireWithWait } from './acquire-with-wait.js';
import type { AcquireAttempt, AcquireOptions, LockStore } from './lock-store.js';

/** Options of {@link InMemoryLockStore}. */
export interface InMemoryLockStoreOptions {
  /** Where expiry and waiting read the time. @default systemClock */
  clock?: Clock;
  /** Makes lease ids. @default crypto.randomUUID */
  newLeaseId?: () => string;
}

/**
 * A {@link LockStore} in a Map. Expired leases are dropped lazily, whenever the store is
 * touched, by comparing with the clock: no timers, so a `ManualClock` drives expiry in tests.
 */
export class InMemoryLockStore implements LockStore {
  private readonly clock: Clock;
  private readonly newLeaseId: () => string;
  private readonly leases = new Map<string, Lease>();
  private readonly holders = new Map<string, string>();
  private lastToken = 0;

  constructor(options: InMemoryLockStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.newLeaseId = options.newLeaseId ?? randomUUID;
  }

  acquire(spec: AcquireSpec, options: AcquireOptions = {}): Promise<Lease> {
    return acquireWithWait(() => Promise.resolve(this.tryAcquire(spec)), spec.waitMs, { clock: this.clock, signal: options.signal });
  }

  extend(spec: ExtendSpec): Promise<Lease> {
    this.dropExpired();
    const lease = this.leases.get(spec.leaseId);
    if (!lease) return Promise.reject(lockNotHeld(spec.leaseId, spec.owner, 'expired_or_released'));
    if (lease.owner !== spec.owner) return Promise.reject(lockNotHeld(spec.leaseId, spec.owner, 'other_owner'));
    const extended: Lease = { ...lease, expiresAt: this.clock.now() + spec.ttlMs };
    this.leases.set(lease.leaseId, extended);
    return Promise.resolve(extended);
  }

  release(spec: ReleaseSpec): Promise<Lease | undefined> {
    this.dropExpired();
    const lease = this.leases.get(spec.leaseId);
    if (!lease) return Promise.resolve(undefined);
    if (lease.owner !== spec.owner) return Promise.reject(lockNotHeld(spec.leaseId, spec.owner, 'other_owner'));
    this.drop(lease);
    return Promise.resolve(lease);
  }

  inspect(concernPrefix: string): Promise<Lease[]> {
    this.dropExpired();
    const leases = [...this.leases.values()].filter((lease) =>
      lease.concerns.some((concern) => concern.startsWith(concernPrefix)),
    );
    return Promise.resolve(leases);
  }

  private tryAcquire(spec: AcquireSpec): AcquireAttempt {
    this.dropExpired();
    for (const concern of spec.concerns) {
      const holderId = this.holders.get(concern);
      const holder = holderId === undefined ? undefined : this.leases.get(holderId);
      if (holder) return { granted: false, conflict: { concern, leaseId: holder.leaseId, owner: holder.owner } };
    }
    this.lastToken += 1;
    const lease: Lease = {
      leaseId: this.newLeaseId(),
      owner: spec.owner,
      concerns: [...spec.concerns],
      fencingToken: this.lastToken,
      expiresAt: this.clock.now() + spec.ttlMs,
    };
    this.leases.set(lease.leaseId, lease);
    for (const concern of lease.concerns) this.holders.set(concern, lease.leaseId);
    return { granted: true, lease };
  }

  private dropExpired(): void {
    const now = this.clock.now();
    for (const lease of [...this.leases.values()]) {
      if (lease.expiresAt <= now) this.drop(lease);
    }
  }

  private drop(lease: Lease): void {
    this.leases.delete(lease.leaseId);
    for (const concern of lease.concerns) {
      if (this.holders.get(concern) === lease.leaseId) this.holders.delete(concern);
    }
  }
}
