import { locksOfRun, parseLockOwner } from './lock-view';

const t1 = '3f6c2a9e-8d1b-4c57-9a0e-2b7d5f1c4e88';
const t2 = '9b1e4d77-0c3a-4f2e-8a61-5d9c0b2e7f13';

describe('parseLockOwner', () => {
  it('reads executor owners that name their task, and nothing else', () => {
    expect(parseLockOwner(`executor:executor-1:${t1}:s1`)).toEqual({ executorId: 'executor-1', taskId: t1, subtaskId: 's1' });
    expect(parseLockOwner('orion')).toBeUndefined();
    expect(parseLockOwner('executor:executor-1:s1')).toBeUndefined();
  });
});

describe('locksOfRun', () => {
  const lease = (owner: string, concern = 'file:/repo/a.js') => ({ leaseId: owner, owner, concerns: [concern], sharedConcerns: [], fencingToken: '7', expiresAt: 'x' });
  const waiter = (requestId: string, owner: string) => ({ requestId, owner, concerns: ['file:/repo/a.js'], sharedConcerns: [], queuedAt: 'a', deadline: 'b' });
  const table = {
    leases: [
      lease(`executor:e1:${t1}:s1`),
      // Another task's subtask of the same id, in the same repository.
      lease(`executor:e2:${t2}:s1`),
      // The run's task works in another directory too (a concern outside the repository).
      lease(`executor:e1:${t1}:s2`, 'file:/elsewhere/b.js'),
      lease('cli:alice'),
      lease('executor:e3:s1'),
      // The attempt's work lease: no file locked.
      lease(`executor:e1:${t1}:s1`, `resource:work/${t1}/s1`),
    ],
    waiters: [waiter('q1', `executor:e2:${t1}:s3`), waiter('q2', `executor:e2:${t2}:s3`), { ...waiter('q3', `executor:e4:${t1}:s1`), concerns: [`resource:work/${t1}/s1`] }],
  };

  it("keeps the leases and waiters of the run's task, whatever files they lock, but not its work leases", () => {
    const locks = locksOfRun(table, t1);
    expect(locks.leases.map((l) => l.holder)).toEqual([
      { executorId: 'e1', taskId: t1, subtaskId: 's1' },
      { executorId: 'e1', taskId: t1, subtaskId: 's2' },
    ]);
    expect(locks.waiters.map((w) => w.requestId)).toEqual(['q1']);
  });

  it('keeps nothing for a run of no task', () => {
    expect(locksOfRun(table, '')).toEqual({ leases: [], waiters: [] });
  });
});
