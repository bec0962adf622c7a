import { executorLockOwner, parseExecutorLockOwner } from './lock-owner.js';

const taskId = '3f6c2a9e-8d1b-4c57-9a0e-2b7d5f1c4e88';

describe('executorLockOwner', () => {
  it('names the executor, the task and the subtask', () => {
    expect(executorLockOwner({ executorId: 'executor-1', taskId, subtaskId: 's1' })).toBe(`executor:executor-1:${taskId}:s1`);
  });

  it('refuses an executor or task id that would make the owner ambiguous', () => {
    expect(() => executorLockOwner({ executorId: 'host:1', taskId, subtaskId: 's1' })).toThrow(/executorId must be non-empty and contain no ':'/);
    expect(() => executorLockOwner({ executorId: 'e', taskId: 'a:b', subtaskId: 's1' })).toThrow(/taskId/);
    expect(() => executorLockOwner({ executorId: '', taskId, subtaskId: 's1' })).toThrow(/executorId/);
    expect(() => executorLockOwner({ executorId: 'e', taskId, subtaskId: '' })).toThrow(/subtaskId/);
  });
});

describe('parseExecutorLockOwner', () => {
  it.each([
    [`executor:executor-1:${taskId}:s1`, { executorId: 'executor-1', taskId, subtaskId: 's1' }],
    ['executor:e.host-7:t1:s12', { executorId: 'e.host-7', taskId: 't1', subtaskId: 's12' }],
    // The subtask id is the rest, whatever it holds.
    ['executor:e:t1:merge:s1', { executorId: 'e', taskId: 't1', subtaskId: 'merge:s1' }],
  ])('reads %s', (owner, expected) => {
    expect(parseExecutorLockOwner(owner)).toEqual(expected);
  });

  it.each([
    ['a person', 'cli:alice'],
    ['an executor from before owners named their task', 'executor:executor-1:s1'],
    ['an empty executor id', `executor::${taskId}:s1`],
    ['an empty task id', 'executor:e::s1'],
    ['no subtask id', `executor:e:${taskId}:`],
    ['another prefix', `worker:e:${taskId}:s1`],
    ['nothing', ''],
  ])('reads no executor owner from %s', (_what, owner) => {
    expect(parseExecutorLockOwner(owner)).toBeUndefined();
  });

  it('reads no owner from a value that is not text', () => {
    expect(parseExecutorLockOwner(undefined)).toBeUndefined();
    expect(parseExecutorLockOwner(42)).toBeUndefined();
  });

  it('reads back what the builder built', () => {
    const owner = { executorId: 'exec-a', taskId, subtaskId: 's3' };
    expect(parseExecutorLockOwner(executorLockOwner(owner))).toEqual(owner);
  });
});
