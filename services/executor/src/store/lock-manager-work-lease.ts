/**
 * The work item's lease over the lock-manager: one `resource:work/<task>/<subtask>` lease held
 * by a write guard of its own, whose time to live is about the JetStream ack wait (so a dead
 * holder's lease runs out about when its work is redelivered) and which the guard's timer
 * extends every third of it. An extension the lock-manager refuses (`LOCK_NOT_HELD`, `FENCED`:
 * the executor was paused past the TTL and someone else took the work) aborts `lost`.
 */
import type { SubtaskWork } from '@maestro/contracts';
import type { Clock, Logger } from '@maestro/runtime';
import type { HeldLock, WorkLease } from '../domain/ports.js';
import { workLeaseConcern } from '../domain/work-lease-concern.js';
import { LockManagerWriteGuard, type LockClient } from './lock-manager-write-guard.js';

/** Options for {@link LockManagerWorkLease}. */
export interface LockManagerWorkLeaseOptions {
  client: LockClient;
  work: SubtaskWork;
  owner: string;
  /** The lease's time to live; the executor passes its ack wait. */
  ttlMs: number;
  /**
   * How long a redelivered attempt waits for an earlier holder's lease.
   * @default 2 × ttlMs (a dead holder's lease is gone within one ttl)
   */
  waitMs?: number;
  /** @default systemClock */
  clock?: Clock;
  logger: Logger;
}

/** The lease on one work item for one attempt. */
export class LockManagerWorkLease implements WorkLease {
  private readonly guard: LockManagerWriteGuard;
  private readonly lostController = new AbortController();
  private held: HeldLock | undefined;

  constructor(private readonly options: LockManagerWorkLeaseOptions) {
    this.guard = new LockManagerWriteGuard({
      client: options.client,
      owner: options.owner,
      ttlMs: options.ttlMs,
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
      logger: options.logger,
      events: {
        onLost: (lock, error) => {
          options.logger.warn('work lease lost; stopping the attempt', { leaseId: lock.leaseId, err: error });
          this.lostController.abort(error);
        },
      },
    });
  }

  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  async acquire(): Promise<HeldLock> {
    this.held = await this.guard.hold([workLeaseConcern(this.options.work)], this.options.waitMs ?? 2 * this.options.ttlMs);
    return this.held;
  }

  async confirm(): Promise<void> {
    if (this.held === undefined) throw new Error('work lease: confirm before acquire');
    await this.guard.confirm(this.held);
  }

  release(): Promise<void> {
    return this.guard.release();
  }
}
