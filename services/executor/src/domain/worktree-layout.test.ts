import { executorWorktreeDir, MaestroRefs, taskBranchOf, toSafeSegment, worktreePathOf } from './worktree-layout.js';

describe('worktree layout', () => {
  it('keeps safe characters readable and encodes the rest, so distinct ids never share a name', () => {
    expect(toSafeSegment('sub-1:2')).toBe('sub-1_3a2');
    expect(toSafeSegment('a/b')).toBe('a_2fb');
    expect(toSafeSegment('a_2fb')).toBe('a_5f2fb');
    expect(toSafeSegment('..')).toBe('_2e_2e');
    expect(toSafeSegment('é')).toBe('_c3_a9');
    expect(() => toSafeSegment('')).toThrow('must not be empty');
  });

  it('puts each attempt in its own directory under the executor', () => {
    expect(executorWorktreeDir('/tmp/maestro-worktrees', 'host-12')).toBe('/tmp/maestro-worktrees/host-12');
    expect(worktreePathOf('/wt', 'exec/1', { taskId: 't1', subtaskId: 's1', attempt: 2 })).toBe('/wt/exec_2f1/t1--s1--a2');
    expect(worktreePathOf('/wt', 'e', { taskId: 't1', subtaskId: 's1', attempt: 3 })).not.toBe(
      worktreePathOf('/wt', 'e', { taskId: 't1', subtaskId: 's1', attempt: 2 }),
    );
  });

  it('works on maestro/<taskId> unless the work names the task branch', () => {
    expect(taskBranchOf({ taskId: 'abc' })).toBe('maestro/abc');
    expect(taskBranchOf({ taskId: 'abc', taskBranch: 'feature/x' })).toBe('feature/x');
  });

  it('names its refs under refs/maestro, one component per id', () => {
    expect(MaestroRefs.gitIndexFence).toBe('refs/maestro/fence/git-index');
    expect(MaestroRefs.merged('t/1', 's1:1')).toBe('refs/maestro/merged/t_2f1/s1_3a1');
    expect(MaestroRefs.carried('t1', 's.1')).toBe('refs/maestro/carried/t1/s_2e1');
  });
});
