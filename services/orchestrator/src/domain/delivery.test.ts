import { deliveryModeOf, deliveryView, lastMergedSha, taskBranchName } from './delivery.js';

describe('deliveryModeOf', () => {
  it('reads the workflow\'s context.delivery, defaulting to branch', () => {
    expect(deliveryModeOf({})).toEqual({ ok: true, mode: 'branch' });
    expect(deliveryModeOf({ delivery: 'branch' })).toEqual({ ok: true, mode: 'branch' });
    expect(deliveryModeOf({ delivery: 'fast-forward' })).toEqual({ ok: true, mode: 'fast-forward' });
  });

  it('falls back to branch, naming the field, for anything else', () => {
    expect(deliveryModeOf({ delivery: 'ff' })).toEqual({ ok: false, mode: 'branch', problem: 'context.delivery: must be "branch" or "fast-forward", got "ff"' });
    expect(deliveryModeOf({ delivery: 3 })).toMatchObject({ ok: false, mode: 'branch' });
  });
});

describe('deliveryView', () => {
  const result = (sha: string, finishedAt: string) => ({ result: { merged: { branch: 'maestro/t1', sha }, finishedAt } });

  it('is the stored delivery once the review decided', () => {
    const delivery = { mode: 'branch' as const, branch: 'maestro/t1', sha: 'abc', delivered: true, reason: 'left for review' };
    expect(deliveryView({ id: 't1', status: 'succeeded', deliveryMode: 'branch', delivery }, [])).toBe(delivery);
  });

  it('is unknown while the task is still going', () => {
    expect(deliveryView({ id: 't1', status: 'running', deliveryMode: null, delivery: null }, [])).toBeNull();
  });

  it('says a failed task leaves its branch, at the tip the last merge reported', () => {
    const subtasks = [result('older', '2026-01-01T00:00:01Z'), result('newest', '2026-01-01T00:00:09Z'), { result: null }];
    expect(deliveryView({ id: 't1', status: 'failed', deliveryMode: 'fast-forward', delivery: null }, subtasks)).toEqual({
      mode: 'fast-forward', branch: 'maestro/t1', sha: 'newest', delivered: false, reason: 'the task failed; its branch maestro/t1 is left as it is',
    });
  });

  it('says so for a cancelled task without merges too', () => {
    expect(deliveryView({ id: 't1', status: 'cancelled', deliveryMode: null, delivery: null }, [])).toMatchObject({
      mode: 'branch', sha: '', delivered: false, reason: 'the task was cancelled; its branch maestro/t1 (if any subtask merged into it) is left as it is',
    });
  });
});

it('names the task branch maestro/<taskId>', () => {
  expect(taskBranchName('0b9c')).toBe('maestro/0b9c');
  expect(lastMergedSha([])).toBe('');
});
