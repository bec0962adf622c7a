/**
 * A write guard for tests that run without a lock-manager: it grants everything at once,
 * remembers what it was asked for (writes and held leases alike, in order), hands out fencing
 * tokens from a counter the test shares between guards, and can be told to lose a lease.
 * In-process only; the real guard is `LockManagerWriteGuard`, tested against its client.
 */
import type { HeldLock, SubtaskWriteGuard } from '../src/domain/ports.js';

/** Fencing tokens shared by the guards of one test, increasing with every grant like the lock-manager's. */
export class TokenCounter {
  private last = 0;
  next(): number {
    this.last += 1;
    return this.last;
  }
}

/** Grants everything and records it. */
export class RecordingWriteGuard implements SubtaskWriteGuard {
  /** Every concern asked for, by writes and holds, in order. */
  readonly concerns: string[] = [];
  /** The leases held on purpose (declared concerns, the merge's git index), in order. */
  readonly holds: Array<{ concerns: string[]; waitMs: number; fencingToken: number }> = [];
  released = 0;
  confirmed = 0;
  /** When set, `confirm` fails as the lock-manager does for a lost lease. */
  loseLeases = false;
  private leaseCount = 0;

  constructor(private readonly tokens: TokenCounter = new TokenCounter()) {}

  async acquire(concerns: string[]): Promise<void> {
    this.concerns.push(...concerns);
  }

  async hold(concerns: string[], waitMs: number): Promise<HeldLock> {
    this.concerns.push(...concerns);
    const fencingToken = this.tokens.next();
    this.holds.push({ concerns: [...concerns], waitMs, fencingToken });
    return { leaseId: `lease-${++this.leaseCount}`, concerns, fencingToken };
  }

  async confirm(): Promise<void> {
    this.confirmed++;
    if (this.loseLeases) throw Object.assign(new Error('lease is not held'), { code: 'LOCK_NOT_HELD' });
  }

  async releaseLease(): Promise<void> {}

  async release(): Promise<void> {
    this.released++;
  }
}
