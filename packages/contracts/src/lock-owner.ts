/**
 * The lock owner an executor gives its leases: `executor:<executorId>:<taskId>:<subtaskId>`.
 * Subtask ids (`s1`, `s2`, …) are unique only within a task, so the owner names the task too:
 * whoever watches the lock table or the lock events (the gateway's run streams, the viewer)
 * tells a task's leases from another's by reading the owner, without asking for the task.
 *
 * Executor ids and task ids never contain `:` (the executor's config refuses such an id; task ids
 * are UUIDs), so the owner splits unambiguously; the subtask id is the rest.
 *
 * This file imports nothing, and must stay that way: the web viewer imports it by path, so it gets
 * this one rule without the rest of the contracts (and their gRPC code) in its bundle.
 *
 * @example
 * executorLockOwner({ executorId: 'executor-1', taskId: '4f0c…', subtaskId: 's1' }); // 'executor:executor-1:4f0c…:s1'
 * parseExecutorLockOwner('cli:alice'); // undefined
 */

/** Who an executor's lease is for, as its owner names it. */
export interface ExecutorLockOwner {
  executorId: string;
  taskId: string;
  subtaskId: string;
}

const OWNER_PATTERN = /^executor:([^:]+):([^:]+):(.+)$/;

/** The owner an executor gives the leases of one subtask of one task; unique per subtask, so two subtasks never share leases. */
export function executorLockOwner(owner: ExecutorLockOwner): string {
  for (const field of ['executorId', 'taskId'] as const) {
    const value = owner[field];
    if (value === '' || value.includes(':')) throw new RangeError(`executorLockOwner: ${field} must be non-empty and contain no ':', got "${value}"`);
  }
  if (owner.subtaskId === '') throw new RangeError('executorLockOwner: subtaskId must be non-empty');
  return `executor:${owner.executorId}:${owner.taskId}:${owner.subtaskId}`;
}

/**
 * Reads an owner built by {@link executorLockOwner}; undefined for any other owner (a person's
 * `cli:alice`, or the `executor:<executorId>:<subtaskId>` of executors from before owners named their task).
 */
export function parseExecutorLockOwner(owner: unknown): ExecutorLockOwner | undefined {
  if (typeof owner !== 'string') return undefined;
  const match = OWNER_PATTERN.exec(owner);
  if (match === null) return undefined;
  const [, executorId = '', taskId = '', subtaskId = ''] = match;
  return { executorId, taskId, subtaskId };
}
