import { locksOfRun, parseLockOwner } from './lock-view';

describe('parseLockOwner', () => {
  it('reads executor owners and nothing else', () => {
    expect(parseLockOwner('executor:executor-1:s1')).toEqual({ executorId: 'executor-1', subtaskId: 's1' });
    expect(parseLockOwner('orion')).toBeUndefined();
  });
});

describe('locksOfRun', () => {
  const lease = (owner: string, concern: string) => ({ leaseId: owner, owner, concerns: [concern], sharedConcerns: [], fencingToken: '7', expiresAt: 'x' });
  it('keeps the task’s subtasks’ leases and waiters on its repository', () => {
    const table = {
      leases: [lease('executor:e1:s1', 'file:/repo/a.js'), lease('executor:e1:s1', 'file:/other/a.js'), lease('executor:e2:s9', 'file:/repo/b.js')],
      waiters: [{ requestId: 'q', owner: 'executor:e2:s2', concerns: ['file:/repo/a.js'], sharedConcerns: [], queuedAt: 'a', deadline: 'b' }],
    };
    const locks = locksOfRun(table, new Set(['s1', 's2']), '/repo');
    expect(locks.leases.map((l) => l.holder)).toEqual([{ executorId: 'e1', subtaskId: 's1' }]);
    expect(locks.waiters.map((w) => w.requestId)).toEqual(['q']);
  });
});
