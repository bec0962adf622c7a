/**
 * Which lock events belong to a run's stream. Lock events name a lease owner, not a run; an
 * executor owns its leases as `executor:<executorId>:<taskId>:<subtaskId>` (`executorLockOwner`
 * of @maestro/contracts), so an event is the run's when its owner names the run's task. The
 * owner alone decides: no task is read, and a re-plan's new subtasks are the task's like the rest.
 * Any other owner (a person's `cli:alice`, an executor from before owners named their task) is
 * no run's.
 */
import { parseExecutorLockOwner } from '@maestro/contracts';
import type { BusEvent } from '../../ports.js';

/** Whether `event` (a lock event) is one of the task's: its owner is an executor working on a subtask of `taskId`. */
export function isLockEventOfTask(event: BusEvent, taskId: string): boolean {
  return parseExecutorLockOwner(event.payload.owner)?.taskId === taskId;
}
