/**
 * The waiting half of an acquire, shared by every store: register the request, ask the backend
 * once, and if it was queued wait for a grant notice (no retry loop), the wait's deadline (one
 * last backend call) or the caller's cancel (the backend removes it, or releases a grant that
 * raced). Time comes from the injected `Clock`.
 *
 * A request whose caller already got an error (the store closed while the backend call was in
 * flight) can still be granted or queued by that call: the answer is then handed back (one
 * `cancel`), so no lease is held and no queue entry waits for a caller that is gone.
 */
import { createSilentLogger } from '@maestro/runtime';
import type { Clock, Logger, Timer } from '@maestro/runtime';
import { lockConflict, storeClosing, waitCancelled } from '../domain/lock-errors.js';
import type { AcquireSpec, Lease } from '../domain/lease.js';
import type { AcquireOutcome } from '../domain/lock-table.js';
import type { AcquireOptions } from './lock-store.js';

/** The three backend calls a queued acquire needs; each is one atomic step of the store. */
export interface QueueBackend {
  /** Grants, queues or refuses the request under `requestId` (its lease id if granted). */
  acquire(requestId: string, spec: AcquireSpec): Promise<AcquireOutcome>;
  /** At the deadline: the lease if granted meanwhile, else leave the queue and try once more. */
  timeout(requestId: string, spec: AcquireSpec): Promise<AcquireOutcome>;
  /**
   * Leaves the queue and releases the lease granted under `requestId`, if any; returns that
   * lease. Used for a caller that left and to hand back what an abandoned request got.
   */
  cancel(requestId: string): Promise<Lease | undefined>;
}

/** Options of {@link LocalWaiters}. */
export interface LocalWaitersOptions {
  /** Times wait deadlines and the bound of `close()`. */
  clock: Clock;
  /** Where hand-backs that failed are logged (a lease or queue entry then lingers until its ttl or deadline). @default a silent logger */
  logger?: Logger | undefined;
  /**
   * How long `close()` waits for backend calls still in flight and the hand-backs they need;
   * past it, close resolves and the stragglers finish (or fail, logged) on their own. @default 5000
   */
  closeTimeoutMs?: number | undefined;
}

const defaults = { closeTimeoutMs: 5_000 } as const;

interface Pending {
  readonly spec: AcquireSpec;
  readonly backend: QueueBackend;
  /** How the caller's promise settled: with a lease, or with an error (then anything granted is handed back). */
  settledWith: 'lease' | 'error' | undefined;
  /** Set once the caller left: a grant notice is ignored (cancel releases that grant). */
  cancelling: boolean;
  /** Set once the backend answered "queued". */
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
  /** Backend calls not answered yet (with the handling of their answer), for `close()` to wait on. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly closeTimeoutMs: number;
  private closed = false;

  constructor(options: LocalWaitersOptions) {
    this.clock = options.clock;
    this.logger = options.logger ?? createSilentLogger();
    this.closeTimeoutMs = options.closeTimeoutMs ?? defaults.closeTimeoutMs;
  }

  /**
   * Ids of the requests that may still be granted for a caller here: queued, or with their
   * acquire call in flight (for a status check after missed notices).
   */
  pendingIds(): string[] {
    return [...this.pending].filter(([, p]) => p.settledWith === undefined && !p.cancelling).map(([id]) => id);
  }

  /** A grant notice: resolves the waiting request `requestId` with its lease, if it waits here. */
  granted(requestId: string, grant: { fencingToken: number; expiresAt: number }): void {
    const pending = this.pending.get(requestId);
    if (!pending || pending.settledWith !== undefined || pending.cancelling) return;
    pending.resolve({
      leaseId: requestId,
      owner: pending.spec.owner,
      concerns: [...pending.spec.concerns],
      sharedConcerns: [...pending.spec.sharedConcerns],
      ...grant,
    });
  }

  /**
   * Fails every pending request with `reason` and withdraws it: a queued one leaves the queue
   * now, one whose backend call is in flight is handed back when the answer comes. Later
   * acquires fail at once. Resolves when no backend call is in flight any more, or after
   * `closeTimeoutMs`.
   */
  async close(reason: unknown = storeClosing()): Promise<void> {
    this.closed = true;
    // Settle every caller first: a cancel below may grant a request behind it, which must then
    // be ignored here (its own cancel releases that grant), not handed to a caller mid-close.
    const queued = [...this.pending].filter(([, p]) => p.queued && !p.cancelling && p.settledWith === undefined);
    for (const [, pending] of this.pending) pending.cancelling = true;
    for (const [, pending] of [...this.pending]) pending.reject(reason);
    for (const [requestId, pending] of queued) {
      this.track(
        pending.backend.cancel(requestId).catch((err: unknown) =>
          this.logger.warn('lock request could not leave the queue on close', { err, requestId }),
        ),
      );
    }
    await this.drain();
  }

  /**
   * Runs one acquire through `backend`: granted or refused at once, or queued and settled by a
   * grant notice, the deadline or `options.signal`.
   */
  acquire(backend: QueueBackend, requestId: string, spec: AcquireSpec, options: AcquireOptions = {}): Promise<Lease> {
    const { signal } = options;
    if (this.closed) return Promise.reject(storeClosing());
    if (signal?.aborted) return Promise.reject(waitCancelled());
    let resolveFn!: (lease: Lease) => void;
    let rejectFn!: (err: unknown) => void;
    const settledPromise = new Promise<Lease>((resolve, reject) => {
      resolveFn = resolve;
      rejectFn = reject;
    });
    let timer: Timer | undefined;
    const onAbort = (): void => {
      if (pending.settledWith !== undefined || pending.cancelling) return;
      pending.cancelling = true;
      this.track(
        backend.cancel(requestId).then(
          (released) => pending.reject(waitCancelled(released !== undefined)),
          (err: unknown) => pending.reject(err),
        ),
      );
    };
    const cleanup = (): void => {
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      this.pending.delete(requestId);
    };
    const pending: Pending = {
      spec,
      backend,
      settledWith: undefined,
      cancelling: false,
      queued: false,
      resolve: (lease) => {
        if (pending.settledWith !== undefined) return;
        pending.settledWith = 'lease';
        cleanup();
        resolveFn(lease);
      },
      reject: (err) => {
        if (pending.settledWith !== undefined) return;
        pending.settledWith = 'error';
        cleanup();
        rejectFn(err);
      },
    };
    const onDeadline = (): void => {
      if (pending.settledWith !== undefined || pending.cancelling) return;
      this.track(
        backend
          .timeout(requestId, spec)
          .then((last) => {
            // A cancel sent meanwhile settles the request and releases what this call granted.
            if (pending.cancelling) return;
            if (pending.settledWith === 'error' || last.kind === 'queued') this.handBack(backend, requestId, last);
            if (last.kind === 'granted') pending.resolve(last.lease);
            else pending.reject(lockConflict(last.blocker, spec.waitMs));
          })
          .catch((err: unknown) => pending.reject(err)),
      );
    };
    // Registered before the backend call: a grant notice may arrive before its reply does.
    this.pending.set(requestId, pending);
    this.track(
      backend
        .acquire(requestId, spec)
        .then((outcome) => {
          if (pending.settledWith === 'error') {
            this.handBack(backend, requestId, outcome);
            return;
          }
          if (outcome.kind === 'granted') pending.resolve(outcome.lease);
          else if (outcome.kind === 'refused') pending.reject(lockConflict(outcome.blocker, 0));
          else if (pending.settledWith === undefined) {
            pending.queued = true;
            signal?.addEventListener('abort', onAbort, { once: true });
            timer = this.clock.setTimer(spec.waitMs, onDeadline);
            options.onQueued?.(outcome.waiter, outcome.blocker);
            // The caller may have left while the backend call was in flight.
            if (signal?.aborted) onAbort();
          }
        })
        .catch((err: unknown) => pending.reject(err)),
    );
    return settledPromise;
  }

  /**
   * The backend granted or queued a request whose caller already got an error: undo it with one
   * `cancel`, or the lease would be held by nobody until its ttl (the entry would block those
   * behind it until its deadline).
   */
  private handBack(backend: QueueBackend, requestId: string, outcome: AcquireOutcome): void {
    if (outcome.kind === 'refused') return;
    this.track(
      backend
        .cancel(requestId)
        .catch((err: unknown) =>
          this.logger.warn('lock grant of an abandoned request could not be handed back', { err, requestId, outcome: outcome.kind }),
        ),
    );
  }

  /**
   * Remembers `call` (a backend call with the handling of its answer chained on) until it
   * settles, so `close()` can wait for it. `call` never rejects: its chain handles errors.
   */
  private track(call: Promise<unknown>): void {
    this.inFlight.add(call);
    const forget = (): void => {
      this.inFlight.delete(call);
    };
    call.then(forget, forget);
  }

  /** Waits until no backend call is in flight (hand-backs started meanwhile included), at most `closeTimeoutMs`. */
  private async drain(): Promise<void> {
    if (this.inFlight.size === 0) return;
    let expired = false;
    let timer: Timer | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = this.clock.setTimer(this.closeTimeoutMs, () => {
        expired = true;
        resolve();
      });
    });
    try {
      while (this.inFlight.size > 0 && !expired) {
        // A tracked call leaves `inFlight` only after its answer was handled, so any hand-back
        // that answer started is in the set by then and the next round waits for it.
        await Promise.race([Promise.allSettled([...this.inFlight]), bound]);
      }
    } finally {
      timer?.cancel();
    }
    if (this.inFlight.size > 0) {
      this.logger.warn('lock store closed with backend calls still in flight', { inFlight: this.inFlight.size, closeTimeoutMs: this.closeTimeoutMs });
    }
  }
}
