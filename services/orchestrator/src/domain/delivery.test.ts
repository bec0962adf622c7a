import { deliveryModeOf, deliveryView, needsBranchTip, taskBranchName } from './delivery.js';

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
  it('is the stored delivery once the review decided', () => {
    const delivery = { mode: 'branch' as const, branch: 'maestro/t1', sha: 'abc', delivered: true, reason: 'left for review' };
    expect(deliveryView({ id: 't1', status: 'succeeded', deliveryMode: 'branch', delivery }, undefined)).toBe(delivery);
    expect(needsBranchTip({ status: 'failed', delivery })).toBe(false);
  });

  it('is unknown while the task is still going', () => {
    expect(deliveryView({ id: 't1', status: 'running', deliveryMode: null, delivery: null }, undefined)).toBeNull();
    expect(needsBranchTip({ status: 'running', delivery: null })).toBe(false);
  });

  it('says a failed task leaves its branch at the tip git has, whatever the executors reported', () => {
    expect(needsBranchTip({ status: 'failed', delivery: null })).toBe(true);
    expect(deliveryView({ id: 't1', status: 'failed', deliveryMode: 'fast-forward', delivery: null }, 'tip-in-git')).toEqual({
      mode: 'fast-forward', branch: 'maestro/t1', sha: 'tip-in-git', delivered: false, reason: 'the task failed; its branch maestro/t1 is left as it is',
    });
  });

  it('says so for a cancelled task without a branch, and when git could not be asked', () => {
    expect(deliveryView({ id: 't1', status: 'cancelled', deliveryMode: null, delivery: null }, '')).toMatchObject({
      mode: 'branch', sha: '', delivered: false, reason: 'the task was cancelled; no subtask merged into it, so there is no branch maestro/t1',
    });
    expect(deliveryView({ id: 't1', status: 'cancelled', deliveryMode: null, delivery: null }, null)).toMatchObject({
      sha: '', reason: expect.stringContaining('git could not be asked where it points'),
    });
  });
});

it('names the task branch maestro/<taskId>', () => {
  expect(taskBranchName('0b9c')).toBe('maestro/0b9c');
});
