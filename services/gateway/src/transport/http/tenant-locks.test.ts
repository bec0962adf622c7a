import { executorLockOwner } from '@maestro/contracts';
import { OperationalError, notFound } from '@maestro/runtime';
import type { Principal } from '../../auth/principal.js';
import { visibleToTenant } from './tenant-locks.js';

const tasksOf: Record<string, string> = { t1: 'acme', t2: 'globex' };
const lookups: string[] = [];
const orchestrator = {
  getTask: async ({ tenant, taskId }: { tenant: string; taskId: string }) => {
    lookups.push(taskId);
    if (tasksOf[taskId] !== tenant) throw notFound('task', taskId, 'TASK_NOT_FOUND');
    return { id: taskId } as never;
  },
};

const owner = (taskId: string, subtaskId: string) => ({ owner: executorLockOwner({ executorId: 'executor-1', taskId, subtaskId }) });
const items = [owner('t1', 's1'), owner('t2', 's1'), owner('t1', 's2'), { owner: 'cli:alice' }];
const principal = (via: Principal['via'], tenant = 'acme'): Principal => ({ tenant, scopes: ['read'], subject: 'x', via });

describe('the locks a caller sees', () => {
  beforeEach(() => lookups.splice(0));

  it('are those of its tenant\'s tasks only, each task looked up once', async () => {
    expect(await visibleToTenant(items, principal('api-key'), orchestrator)).toEqual([owner('t1', 's1'), owner('t1', 's2')]);
    expect(lookups.sort()).toEqual(['t1', 't2']);
    expect(await visibleToTenant(items, principal('oidc', 'globex'), orchestrator)).toEqual([owner('t2', 's1')]);
  });

  it('are all of them for the operator', async () => {
    expect(await visibleToTenant(items, principal('operator'), orchestrator)).toEqual(items);
    expect(lookups).toEqual([]);
  });

  it('cannot be decided while the orchestrator is down: the request fails instead of showing nothing', async () => {
    const down = { getTask: async () => Promise.reject(new OperationalError('UPSTREAM_UNAVAILABLE', 'orchestrator unavailable')) };
    await expect(visibleToTenant(items, principal('api-key'), down)).rejects.toThrow('orchestrator unavailable');
  });
});
