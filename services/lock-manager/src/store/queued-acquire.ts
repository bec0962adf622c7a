/**
 * The waiting half of an acquire, shared by every store: register the request, ask the backend
 * once, and if it was queued wait for a grant notice (no retry loop), the wait's deadline (one
 * last backend call) or the caller's cancel (the backend removes it, or releases a grant that
 * raced). Time comes from the injected `Clock`.
 */
import type { Clock, Timer } from '@maestro/runtime';
import { lockConflict, waitCancelled } from '../domain/lock-errors.js';
import type { AcquireSpec, Lease } from '../domain/lease.js';
import type { AcquireOutcome } from '../domain/lock-table.js';
import type { AcquireOptions } from './lock-store.js';

/** The three backend calls a queued acquire needs; each is one atomic step of the store. */
export interface QueueBackend {
  /** Grants, queues or refuses the request under `requestId` (its lease id if granted). */
  acquire(requestId: string, spec: AcquireSpec): Promise<AcquireOutcome>;
  /** At the deadline: the lease if granted meanwhile, else leave the queue and try once more. */
  timeout(requestId: string, spec: AcquireSpec): Promise<AcquireOutcome>;
  /** Leaves the queue; returns the lease it released when a grant raced the cancel. */
  cancel(requestId: string): Promise<Lease | undefined>;
}

interface Pending {
  readonly spec: AcquireSpec;
  settled: boolean;
  /** Set once the caller left: a grant notice is ignored (cancel releases that grant). */
  cancelling: boolean;
  /** Set once the backend answered "queued"; only then may a status check resolve it. */
  queued: boolean;
  resolve(lease: Lease): void;
  reject(err: unknown): void;
}

/**
 * The requests of this process that wait in a store's queue, by request id. A grant notice
 * (in-process, or from Redis pub/sub) resolves the matching one; notices for ids that are not
 * here belong to another replica and are ignored.
 */
export class LocalWaiters {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly clock: Clock) {}

  /** Ids of the requests waiting here (for a status check after missed notices). */
  queuedIds(): string[] {
    return [...this.pending].filter(([, p]) => p.queued && !p.settled && !p.cancelling).map(([id]) => id);
  }

  /** A grant notice: resolves the waiting request `requestId` with its lease, if it waits here. */
  granted(requestId: string, grant: { fencingToken: number; expiresAt: number }): void {
    const pending = this.pending.get(requestId);
    if (!pending || pending.settled || pending.cancelling) return;
    pending.resolve({
      leaseId: requestId,
      owner: pending.spec.owner,
      concerns: [...pending.spec.concerns],
      sharedConcerns: [...pending.spec.sharedConcerns],
      ...grant,
    });
  }

  /** Fails every pending request (the store is closing). */
  rejectAll(err: unknown): void {
    for (const pending of this.pending.values()) pending.reject(err);
  }

  /**
   * Runs one acquire through `backend`: granted or refused at once, or queued and settled by a
   * grant notice, the deadline or `options.signal`.
   */
  async acquire(backend: QueueBackend, requestId: string, spec: AcquireSpec, options: AcquireOptions = {}): Promise<Lease> {
    const { signal } = options;
    if (signal?.aborted) throw waitCancelled();
    let resolveFn!: (lease: Lease) => void;
    let rejectFn!: (err: unknown) => void;
    const settledPromise = new Promise<Lease>((resolve, reject) => {
      resolveFn = resolve;
      rejectFn = reject;
    });
    let timer: Timer | undefined;
    const onAbort = (): void => {
      if (pending.settled || pending.cancelling) return;
      pending.cancelling = true;
      backend.cancel(requestId).then(
        (released) => pending.reject(waitCancelled(released !== undefined)),
        (err: unknown) => pending.reject(err),
      );
    };
    const cleanup = (): void => {
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      this.pending.delete(requestId);
    };
    const pending: Pending = {
      spec,
      settled: false,
      cancelling: false,
      queued: false,
      resolve: (lease) => {
        if (pending.settled) return;
        pending.settled = true;
        cleanup();
        resolveFn(lease);
      },
      reject: (err) => {
        if (pending.settled) return;
        pending.settled = true;
        cleanup();
        rejectFn(err);
      },
    };
    // Registered before the backend call: a grant notice may arrive before its reply does.
    this.pending.set(requestId, pending);
    let outcome: AcquireOutcome;
    try {
      outcome = await backend.acquire(requestId, spec);
    } catch (err) {
      pending.reject(err);
      return settledPromise;
    }
    if (outcome.kind === 'granted') pending.resolve(outcome.lease);
    else if (outcome.kind === 'refused') pending.reject(lockConflict(outcome.blocker, 0));
    else if (!pending.settled) {
      pending.queued = true;
      options.onQueued?.(outcome.waiter, outcome.blocker);
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = this.clock.setTimer(spec.waitMs, () => {
        if (pending.settled || pending.cancelling) return;
        backend.timeout(requestId, spec).then(
          (last) => {
            if (last.kind === 'granted') pending.resolve(last.lease);
            else if (last.kind === 'refused' || last.kind === 'queued') pending.reject(lockConflict(last.blocker, spec.waitMs));
          },
          (err: unknown) => pending.reject(err),
        );
      });
      // The caller may have left while the backend call was in flight.
      if (signal?.aborted) onAbort();
    }
    return settledPromise;
  }
}
