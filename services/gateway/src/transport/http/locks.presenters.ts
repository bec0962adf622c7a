/**
 * The public JSON shape of the lock-manager's Inspect answer: leases held and requests waiting.
 * Fencing tokens are 64-bit counters, so they travel as decimal strings.
 */
import type { InspectResponse, Lease, Waiter } from '@maestro/contracts';

/** A lease as the HTTP API shows it. */
export interface LeaseJson {
  leaseId: string;
  /** `executor:<executorId>:<taskId>:<subtaskId>` for an executor's lease. */
  owner: string;
  concerns: string[];
  sharedConcerns: string[];
  fencingToken: string;
  expiresAt: string | null;
}

/** A queued lock request as the HTTP API shows it. */
export interface WaiterJson {
  requestId: string;
  owner: string;
  concerns: string[];
  sharedConcerns: string[];
  queuedAt: string | null;
  deadline: string | null;
}

function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

function toLeaseJson(lease: Lease): LeaseJson {
  return {
    leaseId: lease.leaseId,
    owner: lease.owner,
    concerns: lease.concerns,
    sharedConcerns: lease.sharedConcerns,
    fencingToken: String(lease.fencingToken),
    expiresAt: iso(lease.expiresAt),
  };
}

function toWaiterJson(waiter: Waiter): WaiterJson {
  return {
    requestId: waiter.requestId,
    owner: waiter.owner,
    concerns: waiter.concerns,
    sharedConcerns: waiter.sharedConcerns,
    queuedAt: iso(waiter.queuedAt),
    deadline: iso(waiter.deadline),
  };
}

/** Converts Inspect's answer into the public JSON. */
export function toLocksJson(response: InspectResponse): { leases: LeaseJson[]; waiters: WaiterJson[] } {
  return { leases: response.leases.map(toLeaseJson), waiters: response.waiters.map(toWaiterJson) };
}
