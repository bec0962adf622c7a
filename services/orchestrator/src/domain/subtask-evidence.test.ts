import { toSubtaskEvidence, toVerdict } from './subtask-evidence.js';

describe('toVerdict', () => {
  it('says how the test gate ended, with the command', () => {
    expect(toVerdict({ command: ['npm', 'test'], exitCode: 0, passed: true, outputTail: '' })).toBe('passed: npm test exited 0');
    expect(toVerdict({ command: ['npm', 'test'], exitCode: 1, passed: false, outputTail: 'x' })).toBe('failed: npm test exited 1');
    expect(toVerdict({ command: ['pytest'], exitCode: null, passed: false, outputTail: '' })).toBe('failed: pytest did not exit (killed or timed out)');
  });

  it('is null when no tests ran', () => {
    expect(toVerdict(undefined)).toBeNull();
  });
});

describe('toSubtaskEvidence', () => {
  it('takes the executor, worktree and verdict from a result', () => {
    expect(toSubtaskEvidence({ executorId: 'exec-1', worktree: '/wt/t--s--a1', tests: { command: ['make'], exitCode: 0, passed: true, outputTail: '' } })).toEqual({
      executorId: 'exec-1',
      worktree: '/wt/t--s--a1',
      verdict: 'passed: make exited 0',
    });
  });

  it('treats empty and absent values as not said', () => {
    expect(toSubtaskEvidence({ executorId: '', tests: undefined })).toEqual({ executorId: null, worktree: null, verdict: null });
  });
});
