/**
 * Which locks a run's subtasks hold and wait for, from `GET /v1/locks`. Executors own leases as
 * `executor:<executorId>:<taskId>:<subtaskId>`, so a lease or a waiter is the run's when its
 * owner names the run's task; another task's subtask of the same id (`s1`) is not. Work leases
 * (`resource:work/<task>/<subtask>`, which an executor holds for a whole attempt so a redelivered
 * attempt waits for it) are left out: they lock no file, and every running subtask holds one.
 *
 * The owner is read by the one rule the services use: `parseExecutorLockOwner` of
 * packages/contracts, imported by path. That file imports nothing, so the bundle gets the rule
 * without the contracts' gRPC code (the package index would pull it in).
 */
import { parseExecutorLockOwner, type ExecutorLockOwner } from '../../../contracts/src/lock-owner';
import type { Lease, LockTable, LockWaiter } from '../api/types';

/** Who a lock owner is, read from its name. */
export type LockOwner = ExecutorLockOwner;

/** Reads `executor:<executorId>:<taskId>:<subtaskId>`; undefined for any other owner. */
export const parseLockOwner: (owner: string) => LockOwner | undefined = parseExecutorLockOwner;

/**
 * The concern prefix of an executor's work leases (services/executor/src/domain/work-lease-concern.ts).
 */
export const WORK_LEASE_CONCERN_PREFIX = 'resource:work/';

/** Whether an entry is only an attempt's work lease (or a wait for one). */
function isWorkLease(entry: { concerns: string[]; sharedConcerns: string[] }): boolean {
  const concerns = [...entry.concerns, ...entry.sharedConcerns];
  return concerns.length > 0 && concerns.every((c) => c.startsWith(WORK_LEASE_CONCERN_PREFIX));
}

/** A lease or a waiter with its owner read. */
export type OwnedLease = Lease & { holder: LockOwner };
export type OwnedWaiter = LockWaiter & { holder: LockOwner };

/** The run's part of the lock table. */
export interface RunLocks {
  leases: OwnedLease[];
  waiters: OwnedWaiter[];
}

/** Keeps the leases and waiters whose owner names `taskId`, but for work leases (none when the run names no task). */
export function locksOfRun(table: LockTable, taskId: string): RunLocks {
  const mine = <T extends { owner: string; concerns: string[]; sharedConcerns: string[] }>(entry: T): (T & { holder: LockOwner }) | undefined => {
    const holder = parseLockOwner(entry.owner);
    return holder !== undefined && taskId !== '' && holder.taskId === taskId && !isWorkLease(entry) ? { ...entry, holder } : undefined;
  };
  return {
    leases: table.leases.map(mine).filter((l): l is OwnedLease => l !== undefined),
    waiters: table.waiters.map(mine).filter((w): w is OwnedWaiter => w !== undefined),
  };
}
