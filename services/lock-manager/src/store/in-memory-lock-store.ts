/**
 * Locks held in this process's memory: for unit tests and for the embedded mode, where one
 * process runs every service and there is nobody else to exclude.
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '@maestro/runtime';
import type { Clock, Timer } from '@maestro/runtime';
import { storeClosing } from '../domain/lock-errors.js';
import { LockTable } from '../domain/lock-table.js';
import type { Grant, SweepResult } from '../domain/lock-table.js';
import type { AcquireSpec, CheckFenceSpec, ExtendSpec, Lease, ReleaseSpec } from '../domain/lease.js';
import { matchesPrefix } from './lock-store.js';
import type { AcquireOptions, ExpiredListener, LockSnapshot, LockStore } from './lock-store.js';
import { LocalWaiters } from './queued-acquire.js';
import type { QueueBackend } from './queued-acquire.js';

/** Options of {@link InMemoryLockStore}. */
export interface InMemoryLockStoreOptions {
  /** Where expiry, waits and fencing tokens read the time. @default systemClock */
  clock?: Clock;
  /** Makes request (and lease) ids. @default crypto.randomUUID */
  newRequestId?: () => string;
}

/**
 * A {@link LockStore} over a {@link LockTable} in memory. A sweeper timer on the injected
 * `Clock`, set to the earliest lease expiry and re-armed after every change, expires leases on
 * time (and grants the waiters they blocked), so a `ManualClock` drives everything in tests.
 * Ended leases are remembered for `LockTableDefaults.endedMemoryMs` by the same clock, as long as
 * the Redis store keeps its `ended:<id>` keys, so a late release is answered alike by both.
 */
export class InMemoryLockStore implements LockStore {
  private readonly clock: Clock;
  private readonly newRequestId: () => string;
  private readonly table = new LockTable();
  private readonly waiters: LocalWaiters;
  private readonly expiredListeners = new Set<ExpiredListener>();
  private sweeper: { timer: Timer; due: number } | undefined;
  private closed = false;
  private readonly backend: QueueBackend;

  constructor(options: InMemoryLockStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.newRequestId = options.newRequestId ?? randomUUID;
    this.waiters = new LocalWaiters({ clock: this.clock });
    this.backend = {
      acquire: (id, spec) => this.step((now) => ({ value: this.table.acquire(id, spec, now), granted: [] })),
      timeout: (id, spec) =>
        this.step((now) => {
          const { outcome, granted } = this.table.timeout(id, spec, now);
          return { value: outcome, granted };
        }),
      cancel: (id) =>
        this.step((now) => {
          const { released, granted } = this.table.cancel(id, now);
          return { value: released, granted };
        }),
    };
  }

  acquire(spec: AcquireSpec, options: AcquireOptions = {}): Promise<Lease> {
    if (this.closed) return Promise.reject(storeClosing());
    return this.waiters.acquire(this.backend, this.newRequestId(), spec, options);
  }

  extend(spec: ExtendSpec): Promise<Lease> {
    return this.step((now) => ({ value: this.table.extend(spec, now), granted: [] }));
  }

  release(spec: ReleaseSpec): Promise<Lease | undefined> {
    return this.step((now) => {
      const { lease, granted } = this.table.release(spec, now);
      return { value: lease, granted };
    });
  }

  checkFence(spec: CheckFenceSpec): Promise<Lease> {
    return this.step((now) => ({ value: this.table.checkFence(spec, now), granted: [] }));
  }

  inspect(concernPrefix: string): Promise<LockSnapshot> {
    return this.step((now) => {
      const { leases, waiters } = this.table.inspect(now);
      return {
        value: {
          leases: leases.filter((lease) => matchesPrefix(lease, concernPrefix)),
          waiters: waiters.filter((waiter) => matchesPrefix(waiter, concernPrefix)),
        },
        granted: [],
      };
    });
  }

  onExpired(listener: ExpiredListener): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweeper?.timer.cancel();
    this.sweeper = undefined;
    // Pending requests leave the table too, so the waiters behind them are not blocked by ghosts.
    await this.waiters.close(storeClosing());
  }

  /**
   * One atomic step: sweep at the current time, run `op`, hand out its effects (grants to
   * waiters, expired leases to listeners), re-arm the sweeper. A thrown error still hands out
   * the sweep's effects.
   */
  private step<T>(op: (now: number) => { value: T; granted: Grant[] }): Promise<T> {
    const now = this.clock.now();
    const swept = this.table.sweep(now);
    try {
      const { value, granted } = op(now);
      this.dispatch({ expired: swept.expired, granted: [...swept.granted, ...granted] });
      return Promise.resolve(value);
    } catch (err) {
      this.dispatch(swept);
      return Promise.reject(err);
    } finally {
      this.armSweeper();
    }
  }

  private dispatch({ expired, granted }: SweepResult): void {
    for (const lease of expired) {
      for (const listener of this.expiredListeners) listener(lease);
    }
    for (const { waiterId, lease } of granted) {
      this.waiters.granted(waiterId, { fencingToken: lease.fencingToken, expiresAt: lease.expiresAt });
    }
  }

  private armSweeper(): void {
    if (this.closed) return;
    const next = this.table.nextExpiry();
    if (next === undefined || (this.sweeper && this.sweeper.due <= next)) return;
    this.sweeper?.timer.cancel();
    this.sweeper = {
      due: next,
      timer: this.clock.setTimer(next - this.clock.now(), () => {
        this.sweeper = undefined;
        void this.step(() => ({ value: undefined, granted: [] }));
      }),
    };
  }
}
