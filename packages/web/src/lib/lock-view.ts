/**
 * Which locks a run's subtasks hold and wait for, from `GET /v1/locks`. Executors own leases as
 * `executor:<executorId>:<subtaskId>`; a task's concerns name its repository
 * (`file:/repo/src/a.ts`), so a lease belongs to the run when its owner is one of the task's
 * subtasks and a concern lies in the task's repository.
 */
import type { Lease, LockTable, LockWaiter } from '../api/types';

/** Who a lock owner is, read from its name. */
export interface LockOwner {
  executorId: string;
  subtaskId: string;
}

/** Reads `executor:<executorId>:<subtaskId>`; undefined for any other owner. */
export function parseLockOwner(owner: string): LockOwner | undefined {
  const match = /^executor:([^:]+):(.+)$/.exec(owner);
  return match ? { executorId: match[1] ?? '', subtaskId: match[2] ?? '' } : undefined;
}

/** A lease or a waiter with its owner read. */
export type OwnedLease = Lease & { holder: LockOwner | undefined };
export type OwnedWaiter = LockWaiter & { holder: LockOwner | undefined };

/** The run's part of the lock table. */
export interface RunLocks {
  leases: OwnedLease[];
  waiters: OwnedWaiter[];
}

function concernsIn(entry: { concerns: string[]; sharedConcerns: string[] }, repoPath: string): boolean {
  if (repoPath === '') return true;
  return [...entry.concerns, ...entry.sharedConcerns].some((c) => c.includes(repoPath));
}

/** Keeps the leases and waiters of the task's subtasks (by owner and repository). */
export function locksOfRun(table: LockTable, subtaskIds: ReadonlySet<string>, repoPath: string): RunLocks {
  const mine = <T extends { owner: string; concerns: string[]; sharedConcerns: string[] }>(entry: T): (T & { holder: LockOwner | undefined }) | undefined => {
    const holder = parseLockOwner(entry.owner);
    const ours = holder !== undefined ? subtaskIds.has(holder.subtaskId) && concernsIn(entry, repoPath) : concernsIn(entry, repoPath) && repoPath !== '';
    return ours ? { ...entry, holder } : undefined;
  };
  return {
    leases: table.leases.map(mine).filter((l): l is OwnedLease => l !== undefined),
    waiters: table.waiters.map(mine).filter((w): w is OwnedWaiter => w !== undefined),
  };
}
