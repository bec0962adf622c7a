/**
 * Which of the lock-manager's leases and waiters a caller may see. Locks belong to no tenant of
 * their own; an executor's carries its task (`executor:<executorId>:<taskId>:<subtaskId>`), and
 * the task belongs to a tenant. The operator (the bootstrap key) sees every lock; anyone else
 * only those of tasks their tenant can read. A lock whose owner names no task (a person's, a
 * test's) shows to the operator only.
 */
import { parseExecutorLockOwner } from '@maestro/contracts';
import { UserError, toMaestroError } from '@maestro/runtime';
import type { Principal } from '../../auth/principal.js';
import type { OrchestratorApi } from '../../ports.js';

/** Keeps the entries of `items` the principal may see; each task is looked up once. */
export async function visibleToTenant<T extends { owner: string }>(items: readonly T[], principal: Principal, orchestrator: Pick<OrchestratorApi, 'getTask'>): Promise<T[]> {
  if (principal.via === 'operator') return [...items];
  const readable = new Map<string, Promise<boolean>>();
  const canRead = (taskId: string): Promise<boolean> => {
    let known = readable.get(taskId);
    if (known === undefined) {
      // The orchestrator answers NOT_FOUND for another tenant's task, exactly as for an unknown one.
      known = orchestrator.getTask({ tenant: principal.tenant, taskId }).then(
        () => true,
        (err: unknown) => {
          // Not found (or another tenant's): hidden. Anything else (the orchestrator is down) fails the request.
          const error = toMaestroError(err);
          if (error instanceof UserError && error.reason === 'not_found') return false;
          throw err;
        },
      );
      readable.set(taskId, known);
    }
    return known;
  };
  const keep = await Promise.all(
    items.map(async (item) => {
      const owner = parseExecutorLockOwner(item.owner);
      return owner !== undefined && (await canRead(owner.taskId));
    }),
  );
  return items.filter((_, i) => keep[i]);
}
