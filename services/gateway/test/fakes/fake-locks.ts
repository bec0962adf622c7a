/**
 * The lock-manager's read side as the gateway sees it (LockApi), in process: leases and waiters
 * the test grants and queues (fencing tokens count up like the real one's), filtered by concern
 * prefix like Inspect.
 */
import type { InspectRequest, InspectResponse, Lease, Waiter } from '@maestro/contracts';
import type { Clock } from '@maestro/runtime';
import type { LockApi } from '../../src/ports.js';

/** An in-process lock-manager read side for gateway tests. */
export class FakeLocks implements LockApi {
  readonly leases: Lease[] = [];
  readonly waiters: Waiter[] = [];
  private fencing = 0;

  constructor(private readonly clock: Clock) {}

  /** Grants a lease as Acquire would when nothing conflicts. */
  grant(owner: string, concerns: string[], ttlMs: number, sharedConcerns: string[] = []): Lease {
    const lease: Lease = {
      leaseId: `lease-${this.leases.length + 1}`,
      owner,
      concerns,
      sharedConcerns,
      fencingToken: ++this.fencing,
      expiresAt: new Date(this.clock.now() + ttlMs),
    };
    this.leases.push(lease);
    return lease;
  }

  /** Queues a request as Acquire would behind a conflicting lease. */
  queue(owner: string, concerns: string[], waitMs: number): Waiter {
    const now = this.clock.now();
    const waiter: Waiter = {
      requestId: `request-${this.waiters.length + 1}`,
      owner,
      concerns,
      sharedConcerns: [],
      queuedAt: new Date(now),
      deadline: new Date(now + waitMs),
    };
    this.waiters.push(waiter);
    return waiter;
  }

  async inspect(request: InspectRequest): Promise<InspectResponse> {
    const matches = (concerns: string[]) => request.concernPrefix === '' || concerns.some((c) => c.startsWith(request.concernPrefix));
    const now = this.clock.now();
    return {
      leases: this.leases.filter((l) => (l.expiresAt?.getTime() ?? 0) > now && matches([...l.concerns, ...l.sharedConcerns])),
      waiters: this.waiters.filter((w) => matches([...w.concerns, ...w.sharedConcerns])),
    };
  }
}
