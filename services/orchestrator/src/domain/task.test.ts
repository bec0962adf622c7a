import { nextTaskStatusForRun } from './task.js';

describe('nextTaskStatusForRun', () => {
  it('moves a pending task to running when its run runs', () => {
    expect(nextTaskStatusForRun('pending', { status: 'running' })).toEqual({ status: 'running' });
    expect(nextTaskStatusForRun('running', { status: 'running' })).toBeUndefined();
  });

  it('maps done, failed and cancelled runs', () => {
    expect(nextTaskStatusForRun('running', { status: 'done' })).toEqual({ status: 'succeeded' });
    expect(nextTaskStatusForRun('running', { status: 'failed', error: { code: 'SUBTASKS_FAILED', message: 's1 failed' } })).toEqual({
      status: 'failed',
      failureReason: 'SUBTASKS_FAILED: s1 failed',
    });
    expect(nextTaskStatusForRun('pending', { status: 'cancelled' })).toEqual({ status: 'cancelled' });
  });

  it('never changes a final task', () => {
    expect(nextTaskStatusForRun('succeeded', { status: 'running' })).toBeUndefined();
    expect(nextTaskStatusForRun('cancelled', { status: 'failed' })).toBeUndefined();
  });
});
