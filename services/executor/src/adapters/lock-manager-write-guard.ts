/**
 * The agent's `WriteGuard` over the lock-manager's gRPC `LockService`: before a write tool
 * changes anything, its concerns are acquired (waiting for conflicting leases to go), held
 * leases are extended while the subtask runs, and everything is released when it ends.
 */
import type { AcquireRequest, ExtendRequest, Lease, ReleaseRequest, ReleaseResponse } from '@maestro/contracts';
import { OperationalError, UserError, toMaestroError, type Logger } from '@maestro/runtime';
import { LeaseSet } from '../domain/lease-set.js';
import type { SubtaskWriteGuard } from '../domain/ports.js';

/** The lock-manager methods the executor calls (the `call` side of a runtime gRPC client). */
export interface LockClient {
  acquire(request: AcquireRequest, options?: { deadlineMs?: number }): Promise<Lease>;
  extend(request: ExtendRequest, options?: { deadlineMs?: number }): Promise<Lease>;
  release(request: ReleaseRequest, options?: { deadlineMs?: number }): Promise<ReleaseResponse>;
}

/** Options for {@link LockManagerWriteGuard}. */
export interface LockManagerWriteGuardOptions {
  client: LockClient;
  /** Lease owner; the executor uses `executor:<executorId>:<subtaskId>` (see {@link lockOwner}). */
  owner: string;
  /** Lease time to live. */
  ttlMs: number;
  /**
   * How long an acquire waits for conflicting leases to go before the write fails.
   * @default 30000
   */
  waitMs?: number;
  /**
   * How often held leases are extended.
   * @default a third of ttlMs, so two extensions can fail before a lease expires
   */
  extendEveryMs?: number;
  logger: Logger;
}

/** The lock owner of a subtask on an executor; unique per subtask so two subtasks never share leases. */
export function lockOwner(executorId: string, subtaskId: string): string {
  return `executor:${executorId}:${subtaskId}`;
}

/** Extra deadline beyond the lock wait, for the call itself. */
const CALL_MARGIN_MS = 10_000;

/**
 * A write guard for one subtask. Concerns already held are not asked for again. Acquires are
 * serialized, so two writes of the same subtask never race for the same concern. A lease that
 * cannot be extended because the lock-manager no longer knows it is forgotten, so the next write
 * asks again instead of trusting a lease that is gone.
 */
export class LockManagerWriteGuard implements SubtaskWriteGuard {
  private readonly leases = new LeaseSet();
  private readonly waitMs: number;
  private readonly extendEveryMs: number;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private extending = false;
  private released = false;

  constructor(private readonly options: LockManagerWriteGuardOptions) {
    this.waitMs = options.waitMs ?? 30_000;
    this.extendEveryMs = options.extendEveryMs ?? Math.max(250, Math.floor(options.ttlMs / 3));
  }

  /** Acquires every concern not yet held, all at once; throws when they cannot be had in `waitMs`. */
  acquire(concerns: string[]): Promise<void> {
    const next = this.queue.then(() => this.acquireNow(concerns));
    // The queue must survive a failed acquire: the next write may well succeed.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops extending and releases every held lease; failures are logged, as leases expire anyway. */
  async release(): Promise<void> {
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // Not waiting for an acquire in progress: if it is granted after this, acquireNow hands it back.
    const leases = this.leases.clear();
    await Promise.all(
      leases.map(async (lease) => {
        try {
          await this.options.client.release(
            { leaseId: lease.leaseId, owner: this.options.owner },
            { deadlineMs: CALL_MARGIN_MS },
          );
          this.options.logger.debug('lease released', { leaseId: lease.leaseId, concerns: lease.concerns });
        } catch (err) {
          this.options.logger.warn('lease release failed; it will expire on its own', {
            leaseId: lease.leaseId,
            ttlMs: this.options.ttlMs,
            error: toMaestroError(err).message,
          });
        }
      }),
    );
  }

  private async acquireNow(concerns: string[]): Promise<void> {
    if (this.released) {
      throw new UserError('WRITE_GUARD_RELEASED', 'the subtask has ended; no more writes are allowed', {
        reason: 'precondition',
      });
    }
    const missing = this.leases.missing(concerns);
    if (missing.length === 0) return;
    let lease: Lease;
    try {
      lease = await this.options.client.acquire(
        { owner: this.options.owner, concerns: missing, ttlMs: this.options.ttlMs, waitMs: this.waitMs },
        { deadlineMs: this.waitMs + CALL_MARGIN_MS },
      );
    } catch (err) {
      const cause = toMaestroError(err);
      throw new OperationalError('LOCK_NOT_ACQUIRED', `could not lock ${missing.join(', ')}: ${cause.message}`, {
        cause: err,
        details: { concerns: missing, code: cause.code },
      });
    }
    if (this.released) {
      // release() ran while we waited: hand the fresh lease straight back.
      await this.options.client
        .release({ leaseId: lease.leaseId, owner: this.options.owner }, { deadlineMs: CALL_MARGIN_MS })
        .catch(() => undefined);
      throw new UserError('WRITE_GUARD_RELEASED', 'the subtask has ended; no more writes are allowed', {
        reason: 'precondition',
      });
    }
    // Both spellings: ours (what the tools will ask for again) and the lock-manager's normalized
    // one. The lock-manager does not exempt an owner from its own leases, so asking again for a
    // concern we hold would wait on ourselves until the lease expired.
    const held = [...new Set([...missing, ...lease.concerns])];
    this.leases.add({ leaseId: lease.leaseId, concerns: held, fencingToken: lease.fencingToken });
    this.options.logger.debug('lease acquired', {
      leaseId: lease.leaseId,
      concerns: lease.concerns,
      fencingToken: lease.fencingToken,
    });
    this.startExtending();
  }

  private startExtending(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.extendAll(), this.extendEveryMs);
    // Leases must never keep a process alive that is otherwise done.
    this.timer.unref();
  }

  private async extendAll(): Promise<void> {
    if (this.extending || this.released) return;
    this.extending = true;
    try {
      for (const lease of this.leases.all()) {
        try {
          const extended = await this.options.client.extend(
            { leaseId: lease.leaseId, owner: this.options.owner, ttlMs: this.options.ttlMs },
            { deadlineMs: Math.max(1_000, this.extendEveryMs) },
          );
          this.leases.refresh(lease.leaseId, extended.fencingToken);
        } catch (err) {
          const error = toMaestroError(err);
          if (error instanceof UserError) {
            // The lock-manager says the lease is gone (expired or taken over): stop trusting it.
            this.leases.remove(lease.leaseId);
            this.options.logger.warn('lease lost; its concerns will be acquired again before the next write', {
              leaseId: lease.leaseId,
              concerns: lease.concerns,
              code: error.code,
              error: error.message,
            });
          } else {
            this.options.logger.warn('lease extension failed; retrying at the next interval', {
              leaseId: lease.leaseId,
              code: error.code,
              error: error.message,
            });
          }
        }
      }
    } finally {
      this.extending = false;
    }
  }
}
