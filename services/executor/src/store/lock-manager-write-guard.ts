/**
 * The agent's `WriteGuard` over the lock-manager's gRPC `LockService`: before a write tool
 * changes anything, its concerns are acquired (waiting for conflicting leases to go, as long as
 * the executor's policy allows), the worker holds leases of its own choosing (the declared
 * concerns, the merge's git index), held leases are extended while the subtask runs, and
 * everything is released when it ends.
 */
import type { AcquireRequest, CheckFenceRequest, ExtendRequest, Lease, ReleaseRequest, ReleaseResponse } from '@maestro/contracts';
import { OperationalError, UserError, systemClock, toMaestroError, type Clock, type Logger, type Timer } from '@maestro/runtime';
import { LeaseSet } from '../domain/lease-set.js';
import type { HeldLock, SubtaskWriteGuard, WriteGuardEvents } from '../domain/ports.js';

/** The lock-manager methods the executor calls (the `call` side of a runtime gRPC client). */
export interface LockClient {
  acquire(request: AcquireRequest, options?: { deadlineMs?: number }): Promise<Lease>;
  extend(request: ExtendRequest, options?: { deadlineMs?: number }): Promise<Lease>;
  release(request: ReleaseRequest, options?: { deadlineMs?: number }): Promise<ReleaseResponse>;
  /**
   * Confirms a lease is current with this fencing token: `FENCED` naming `lease_id` for a lease
   * that expired, was released or was lost, or naming `fencing_token` when its token is not the
   * lease's.
   */
  checkFence(request: CheckFenceRequest, options?: { deadlineMs?: number }): Promise<unknown>;
}

/** Options for {@link LockManagerWriteGuard}. */
export interface LockManagerWriteGuardOptions {
  client: LockClient;
  /** Lease owner; the executor uses `executor:<executorId>:<taskId>:<subtaskId>` (`executorLockOwner` of @maestro/contracts). */
  owner: string;
  /** Lease time to live. */
  ttlMs: number;
  /**
   * The repository the subtask's concerns are named on (its top-level real path), sent as
   * `repo_root` with every Acquire: the lock-manager then refuses a `file:`/`dir:`/`repo:`
   * concern outside it (INVALID_ARGUMENT naming the concern), so a write can never lock, and
   * block, a path of another repository.
   * @default none: concerns are not bounded (the work lease's `resource:` concern needs none)
   */
  repoRoot?: string;
  /**
   * How long a write's acquire waits for conflicting leases to go before the write fails (the
   * executor passes `MAESTRO_EXECUTOR_LOCK_WAIT_MS`).
   * @default 30000
   */
  waitMs?: number;
  /**
   * How often held leases are extended.
   * @default a third of ttlMs, so two extensions can fail before a lease expires
   */
  extendEveryMs?: number;
  /** Time for the extension timer and the measured waits. @default systemClock */
  clock?: Clock;
  /** Told of every grant. */
  events?: WriteGuardEvents;
  logger: Logger;
}

/** The defaults of {@link LockManagerWriteGuardOptions}. */
export const WriteGuardDefaults = {
  waitMs: 30_000,
  /** The shortest extension interval, whatever the TTL. */
  minExtendEveryMs: 250,
} as const;

/** Extra deadline beyond the lock wait, for the call itself. */
const CALL_MARGIN_MS = 10_000;

function released(): UserError {
  return new UserError('WRITE_GUARD_RELEASED', 'the subtask has ended; no more writes are allowed', { reason: 'precondition' });
}

/**
 * The error of an acquire that failed. The lock-manager refusing the request itself (INVALID_ARGUMENT:
 * a concern outside the repository, too many concerns) is a `UserError` (`LOCK_REFUSED`, naming its
 * field): asking again would be refused again. Anything else (a conflict that outlasted the wait,
 * an unreachable lock-manager) is transient: `LOCK_NOT_ACQUIRED`, an `OperationalError`.
 */
function notAcquired(concerns: string[], waitMs: number, err: unknown): UserError | OperationalError {
  const cause = toMaestroError(err);
  const details = { concerns, code: cause.code, waitMs };
  if (cause instanceof UserError && cause.reason === 'invalid') {
    return new UserError('LOCK_REFUSED', `the lock-manager refused to lock ${concerns.join(', ')}: ${cause.message}`, {
      cause: err,
      reason: 'invalid',
      ...(cause.field !== undefined ? { field: cause.field } : {}),
      details,
    });
  }
  return new OperationalError('LOCK_NOT_ACQUIRED', `could not lock ${concerns.join(', ')} within ${waitMs} ms: ${cause.message}`, { cause: err, details });
}

/**
 * A write guard for one subtask. Concerns already held are not asked for again. Acquires are
 * serialized, so two writes of the same subtask never race for the same concern. A lease that
 * cannot be extended because the lock-manager no longer knows it is forgotten, so the next write
 * asks again instead of trusting a lease that is gone. The extension timer is one
 * `clock.setTimer`, re-armed after each round, so rounds never overlap and tests drive it with a
 * `ManualClock`.
 */
export class LockManagerWriteGuard implements SubtaskWriteGuard {
  private readonly leases = new LeaseSet();
  private readonly waitMs: number;
  private readonly extendEveryMs: number;
  private readonly clock: Clock;
  private queue: Promise<void> = Promise.resolve();
  private timer: Timer | undefined;
  private released = false;

  constructor(private readonly options: LockManagerWriteGuardOptions) {
    this.waitMs = options.waitMs ?? WriteGuardDefaults.waitMs;
    this.extendEveryMs = options.extendEveryMs ?? Math.max(WriteGuardDefaults.minExtendEveryMs, Math.floor(options.ttlMs / 3));
    this.clock = options.clock ?? systemClock;
  }

  /** Acquires every concern not yet held, all at once; throws when they cannot be had in `waitMs`. */
  async acquire(concerns: string[]): Promise<void> {
    await this.serialized(() => this.acquireNow(concerns, this.waitMs));
  }

  /** Acquires the concerns not yet held as one lease, waiting at most `waitMs`; returns the lease covering them. */
  hold(concerns: string[], waitMs: number): Promise<HeldLock> {
    return this.serialized(async () => {
      const lease = await this.acquireNow(concerns, waitMs);
      if (lease !== undefined) return lease;
      // Everything was held already: the lease that names the first concern answers for them.
      const covering = this.leases.all().find((held) => held.concerns.some((c) => concerns.includes(c))) ?? this.leases.all()[0];
      if (covering === undefined) throw new Error('hold: no concerns to hold');
      return { ...covering };
    });
  }

  /** Confirms `lock` with the lock-manager (`CheckFence`): throws `LOCK_NOT_HELD` or `FENCED` when it is not current. */
  async confirm(lock: HeldLock): Promise<void> {
    if (this.released) throw released();
    if (this.leases.get(lock.leaseId) === undefined) {
      throw new UserError('LOCK_NOT_HELD', `lease ${lock.leaseId} is no longer held by this subtask`, { reason: 'precondition' });
    }
    await this.options.client.checkFence({ leaseId: lock.leaseId, fencingToken: lock.fencingToken }, { deadlineMs: CALL_MARGIN_MS });
  }

  /** Releases one lease now; a failure is logged (it expires anyway). */
  async releaseLease(leaseId: string): Promise<void> {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return;
    this.leases.remove(leaseId);
    await this.releaseOne(lease.leaseId, lease.concerns);
  }

  /** Stops extending and releases every held lease; failures are logged, as leases expire anyway. */
  async release(): Promise<void> {
    this.released = true;
    this.timer?.cancel();
    this.timer = undefined;
    // Not waiting for an acquire in progress: if it is granted after this, acquireNow hands it back.
    const leases = this.leases.clear();
    await Promise.all(leases.map((lease) => this.releaseOne(lease.leaseId, lease.concerns)));
  }

  /** How many leases are held (for tests and diagnostics). */
  get heldLeases(): number {
    return this.leases.size;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    // The queue must survive a failed acquire: the next write may well succeed.
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async releaseOne(leaseId: string, concerns: readonly string[]): Promise<void> {
    try {
      await this.options.client.release({ leaseId, owner: this.options.owner }, { deadlineMs: CALL_MARGIN_MS });
      this.options.logger.debug('lease released', { leaseId, concerns });
    } catch (err) {
      const error = toMaestroError(err);
      if (error instanceof UserError && error.code === 'LOCK_NOT_HELD' && error.field === 'lease_id') {
        // The lock-manager does not know the lease (lost in a store restart, or long gone): nothing is held.
        this.options.logger.info('lease unknown to the lock-manager at release; nothing left to release', { leaseId, concerns, err: error });
        return;
      }
      this.options.logger.warn('lease release failed; it will expire on its own', { leaseId, ttlMs: this.options.ttlMs, err: error });
    }
  }

  /** Acquires what is missing of `concerns`; returns the new lease, or undefined when all were held. */
  private async acquireNow(concerns: string[], waitMs: number): Promise<HeldLock | undefined> {
    if (this.released) throw released();
    const missing = this.leases.missing(concerns);
    if (missing.length === 0) return undefined;
    const started = this.clock.now();
    let lease: Lease;
    try {
      lease = await this.options.client.acquire(this.acquireRequest(missing, waitMs), { deadlineMs: waitMs + CALL_MARGIN_MS });
    } catch (err) {
      throw notAcquired(missing, waitMs, err);
    }
    if (this.released) {
      // release() ran while we waited: hand the fresh lease straight back.
      await this.options.client.release({ leaseId: lease.leaseId, owner: this.options.owner }, { deadlineMs: CALL_MARGIN_MS }).catch(() => undefined);
      throw released();
    }
    // Both spellings: ours (what the tools will ask for again) and the lock-manager's normalized
    // one. The lock-manager does not exempt an owner from its own leases, so asking again for a
    // concern we hold would wait on ourselves until the lease expired.
    const held = [...new Set([...missing, ...lease.concerns])];
    const fencingToken = Number(lease.fencingToken);
    this.leases.add({ leaseId: lease.leaseId, concerns: held, fencingToken });
    const waitedMs = Math.max(0, this.clock.now() - started);
    this.options.logger.debug('lease acquired', { leaseId: lease.leaseId, concerns: lease.concerns, fencingToken, waitedMs });
    this.options.events?.onGranted?.({ concerns: missing, fencingToken, waitedMs });
    this.armExtension();
    return { leaseId: lease.leaseId, concerns: held, fencingToken };
  }

  /** Exclusive concerns only, bounded by the repository when one is set. */
  private acquireRequest(concerns: string[], waitMs: number): AcquireRequest {
    const { owner, ttlMs, repoRoot } = this.options;
    return { owner, concerns, sharedConcerns: [], ttlMs, waitMs, ...(repoRoot !== undefined ? { repoRoot } : {}) };
  }

  /** Schedules the next extension round, unless one is scheduled, nothing is held, or the guard was released. */
  private armExtension(): void {
    if (this.timer !== undefined || this.released || this.leases.size === 0) return;
    this.timer = this.clock.setTimer(this.extendEveryMs, () => {
      this.timer = undefined;
      void this.extendAll().finally(() => this.armExtension());
    });
  }

  private async extendAll(): Promise<void> {
    for (const lease of this.leases.all()) {
      if (this.released) return;
      try {
        const extended = await this.options.client.extend(
          { leaseId: lease.leaseId, owner: this.options.owner, ttlMs: this.options.ttlMs },
          { deadlineMs: Math.max(1_000, this.extendEveryMs) },
        );
        this.leases.refresh(lease.leaseId, Number(extended.fencingToken));
      } catch (err) {
        const error = toMaestroError(err);
        if (error instanceof UserError) {
          // The lock-manager says the lease is gone (expired or taken over): stop trusting it.
          this.leases.remove(lease.leaseId);
          this.options.logger.warn('lease lost; its concerns will be acquired again before the next write', {
            leaseId: lease.leaseId,
            concerns: lease.concerns,
            code: error.code,
            err: error,
          });
          this.options.events?.onLost?.({ leaseId: lease.leaseId, concerns: lease.concerns, fencingToken: lease.fencingToken }, error);
        } else {
          this.options.logger.warn('lease extension failed; retrying at the next interval', { leaseId: lease.leaseId, code: error.code, err: error });
        }
      }
    }
  }
}
