/**
 * Bookkeeping of the lock leases one subtask holds. The agent's write tools ask for their
 * concerns before every write; most writes touch something already locked (the same file
 * again, the repo's git index on every commit), and asking the lock-manager again for a concern
 * we hold would wait on our own lease (the lock-manager does not exempt an owner from its own
 * leases) until the wait ran out.
 */
import { concernCovers } from '@maestro/contracts';

/** A lease granted by the lock-manager, as the executor keeps it. */
export interface HeldLease {
  leaseId: string;
  concerns: readonly string[];
  fencingToken: number;
}

/** The leases of one subtask and the concerns they cover. */
export class LeaseSet {
  private readonly leases = new Map<string, HeldLease>();

  /**
   * The concerns of `requested` not yet covered by a held lease, without duplicates, in their
   * first-seen order. A concern is held when some lease names it, or holds a `repo:`/`dir:` it
   * lies in (`concernCovers` of `@maestro/contracts`: a declared `dir:/repo/src` covers the
   * agent's `file:/repo/src/a.ts`; asking for it would wait on our own lease).
   */
  missing(requested: readonly string[]): string[] {
    const held = [...this.leases.values()].flatMap((lease) => lease.concerns);
    const out: string[] = [];
    for (const concern of requested) {
      if (held.some((h) => concernCovers(h, concern)) || out.includes(concern)) continue;
      out.push(concern);
    }
    return out;
  }

  /** Records a granted lease. */
  add(lease: HeldLease): void {
    this.leases.set(lease.leaseId, { ...lease, concerns: [...lease.concerns] });
  }

  /** Forgets a lease (released, or lost because it expired); its concerns must be asked for again. */
  remove(leaseId: string): void {
    this.leases.delete(leaseId);
  }

  /** A held lease by id. */
  get(leaseId: string): HeldLease | undefined {
    return this.leases.get(leaseId);
  }

  /** Updates the fencing token of a lease after an extension, if it is still held. */
  refresh(leaseId: string, fencingToken: number): void {
    const lease = this.leases.get(leaseId);
    if (lease) lease.fencingToken = fencingToken;
  }

  /** Every held lease, oldest first. */
  all(): HeldLease[] {
    return [...this.leases.values()];
  }

  /** Forgets every lease and returns them, for releasing. */
  clear(): HeldLease[] {
    const all = this.all();
    this.leases.clear();
    return all;
  }

  /** How many leases are held. */
  get size(): number {
    return this.leases.size;
  }
}

